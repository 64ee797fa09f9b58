"""Look-ups by natural key that the commands, the admin and the demo share:
each refusal is a ValidationError naming what was not found."""

from django.core.exceptions import ValidationError

from identity.models import Authority, AuthorityKey, CredentialType, IssuedCredential, Merchant


def authority_by_issuer(issuer: str) -> Authority:
    try:
        return Authority.objects.get(issuer=issuer)
    except Authority.DoesNotExist:
        raise ValidationError(f"no authority has issuer {issuer!r}") from None


def key_by_kid(authority: Authority, kid: str) -> AuthorityKey:
    try:
        return AuthorityKey.objects.get(authority=authority, kid=kid)
    except AuthorityKey.DoesNotExist:
        raise ValidationError(f"authority {authority.issuer} has no key with kid {kid!r}") from None


def merchant_by_number(authority: Authority, registration_number: str) -> Merchant:
    try:
        return Merchant.objects.get(authority=authority, registration_number=registration_number)
    except Merchant.DoesNotExist:
        raise ValidationError(f"{authority.issuer} has no merchant {registration_number!r}") from None


def credential_type_by_code(code: str) -> CredentialType:
    try:
        return CredentialType.objects.get(code=code)
    except CredentialType.DoesNotExist:
        raise ValidationError(f"no credential type {code!r}") from None


def credential_by_jti(authority: Authority, jti: str) -> IssuedCredential:
    try:
        return IssuedCredential.objects.get(merchant__authority=authority, jti=jti)
    except IssuedCredential.DoesNotExist:
        raise ValidationError(f"{authority.issuer} has issued no credential {jti!r} through the registry") from None
