"""State changes of authorities, keys, merchants and credentials.

Every entry point (admin, management commands, API) calls these; no rule is
written twice. Each service validates, locks the row it changes, saves with
`full_clean()` inside a transaction and records the acting user in history.
Refusals raise `django.core.exceptions.ValidationError` with a message meant
for the operator.
"""

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from identity.jose import KeyIntakeError, parse_public_jwk, thumbprint
from identity.models import (
    Assurance,
    Authority,
    AuthorityKey,
    AuthorityStatus,
    CredentialStatus,
    CredentialType,
    IssuedCredential,
    KeyStatus,
    Merchant,
    MerchantStatus,
)

User = AbstractBaseUser | None
CREDENTIAL_TYP = "merchant-credential+jwt"


def save_with_history(instance: models.Model, *, user: User, reason: str = "") -> None:
    """Validate and save one row, recording who changed it and why."""
    instance.full_clean()
    instance._history_user = user
    if reason:
        instance._change_reason = reason
    instance.save()


def _transition(instance: models.Model, *, to: str, allowed: dict[str, set[str]], what: str) -> None:
    current = instance.status
    if to == current:
        raise ValidationError(f"{what} is already {current}")
    if to not in allowed.get(current, set()):
        raise ValidationError(f"{what} cannot go from {current} to {to}")
    instance.status = to


def _locked(model: type[models.Model], pk: int) -> Any:
    return model.objects.select_for_update().get(pk=pk)


# Authorities -------------------------------------------------------------

AUTHORITY_TRANSITIONS = {
    AuthorityStatus.ACTIVE: {AuthorityStatus.SUSPENDED, AuthorityStatus.REVOKED},
    AuthorityStatus.SUSPENDED: {AuthorityStatus.ACTIVE, AuthorityStatus.REVOKED},
    # Revocation is final: a revoked authority's credentials never count again.
    AuthorityStatus.REVOKED: set(),
}


@transaction.atomic
def authority_create(
    *, country: str, name: str, issuer: str, max_assurance: str = Assurance.HIGH, user: User = None
) -> Authority:
    authority = Authority(country=country, name=name, issuer=issuer, max_assurance=max_assurance)
    save_with_history(authority, user=user, reason="created")
    return authority


@transaction.atomic
def authority_update(*, authority: Authority, name: str, max_assurance: str, user: User = None) -> Authority:
    """Change an authority's name or accreditation. The country and the issuer
    never change: agreements and issued credentials name them."""
    authority = _locked(Authority, authority.pk)
    if authority.status == AuthorityStatus.REVOKED:
        raise ValidationError(f"authority {authority.issuer} is revoked; it is no longer changed")
    authority.name, authority.max_assurance = name, max_assurance
    save_with_history(authority, user=user, reason="details changed")
    return authority


@transaction.atomic
def authority_set_status(*, authority: Authority, status: str, user: User = None) -> Authority:
    authority = _locked(Authority, authority.pk)
    _transition(authority, to=status, allowed=AUTHORITY_TRANSITIONS, what=f"authority {authority.issuer}")
    save_with_history(authority, user=user, reason=f"status {status}")
    return authority


def authority_suspend(*, authority: Authority, user: User = None) -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.SUSPENDED, user=user)


def authority_revoke(*, authority: Authority, user: User = None) -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.REVOKED, user=user)


def authority_reinstate(*, authority: Authority, user: User = None) -> Authority:
    return authority_set_status(authority=authority, status=AuthorityStatus.ACTIVE, user=user)


def authority_by_issuer(issuer: str) -> Authority:
    try:
        return Authority.objects.get(issuer=issuer)
    except Authority.DoesNotExist:
        raise ValidationError(f"no authority has issuer {issuer!r}") from None


# Keys ---------------------------------------------------------------------


@transaction.atomic
def key_register(
    *,
    authority: Authority,
    jwk: Any,
    alg: str | None = None,
    kid: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    user: User = None,
) -> AuthorityKey:
    """Register one public key after key intake (DESIGN §3). `not_before`
    defaults to the moment of registration."""
    try:
        public = parse_public_jwk(jwk, alg=alg, kid=kid)
    except KeyIntakeError as exc:
        raise ValidationError(str(exc)) from None
    if AuthorityKey.objects.filter(authority=authority, kid=public.kid).exists():
        raise ValidationError(f"authority {authority.issuer} already has a key with kid {public.kid!r}")
    for existing in AuthorityKey.objects.filter(authority=authority).only("public_jwk"):
        if thumbprint(existing.public_jwk) == public.thumbprint:
            raise ValidationError(f"this key is already registered for {authority.issuer} as kid {existing.kid!r}")
    key = AuthorityKey(
        authority=authority,
        kid=public.kid,
        alg=public.alg,
        public_jwk=public.jwk,
        # Whole seconds: credentials carry iat in seconds, and one issued in
        # the same second as registration must fall inside the key's window.
        not_before=not_before or timezone.now().replace(microsecond=0),
        not_after=not_after,
    )
    save_with_history(key, user=user, reason="registered")
    return key


@transaction.atomic
def key_register_many(*, authority: Authority, jwks: Any, user: User = None) -> list[AuthorityKey]:
    """Register every key of a JWKS, or none of them."""
    if isinstance(jwks, dict) and "keys" in jwks:
        keys = jwks["keys"]
    elif isinstance(jwks, dict) and "kty" in jwks:
        keys = [jwks]
    else:
        raise ValidationError('expected a JWK or a JWKS ({"keys": [...]})')
    if not isinstance(keys, list) or not keys:
        raise ValidationError("the JWKS 'keys' must be a non-empty list")
    registered = []
    for index, jwk in enumerate(keys):
        try:
            registered.append(key_register(authority=authority, jwk=jwk, user=user))
        except ValidationError as exc:
            raise ValidationError(f"key {index + 1} of {len(keys)}: {'; '.join(exc.messages)}") from None
    return registered


def _generate_private_key(alg: str) -> Any:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg in ("PS256", "RS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValidationError(f"alg {alg!r} is not allowed; use one of EdDSA, ES256, ES384, PS256, RS256")


def public_jwk_of(private_or_public_key: Any) -> dict[str, str]:
    """The public JWK of a cryptography key object."""
    key = private_or_public_key
    if hasattr(key, "public_key"):
        key = key.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OKPAlgorithm.to_jwk(key, as_dict=True)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ECAlgorithm.to_jwk(key, as_dict=True)
    if isinstance(key, rsa.RSAPublicKey):
        return RSAAlgorithm.to_jwk(key, as_dict=True)
    raise ValidationError("unsupported key type; use Ed25519, EC P-256/P-384 or RSA")


def write_private_key(private_key: Any, path: Path) -> None:
    """Write a PEM (PKCS#8) private key to a new file of mode 0600; never
    overwrite an existing file. A write that fails half-way removes the file
    it created, and only that one."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValidationError(f"{path} already exists; refusing to overwrite a key file") from None
    except OSError as exc:
        raise ValidationError(f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def key_generate(*, authority: Authority, alg: str, private_key_out: Path, user: User = None) -> AuthorityKey:
    """Generate a key pair, write the private half to `private_key_out` (mode
    0600) and register the public half. Nothing is kept if either step fails,
    and a file this call did not create is never removed: an existing file is
    refused (O_EXCL) and left as it was, whatever fails."""
    private_key = _generate_private_key(alg)
    private_key_out = Path(private_key_out)
    written = False
    try:
        with transaction.atomic():
            key = key_register(authority=authority, jwk=public_jwk_of(private_key), alg=alg, user=user)
            write_private_key(private_key, private_key_out)
            written = True
    except BaseException:
        # The registration was rolled back: the file must not outlive it.
        if written:
            private_key_out.unlink(missing_ok=True)
        raise
    return key


KEY_TRANSITIONS = {
    KeyStatus.ACTIVE: {KeyStatus.RETIRED, KeyStatus.COMPROMISED},
    KeyStatus.RETIRED: {KeyStatus.COMPROMISED},
    KeyStatus.COMPROMISED: set(),
}


@transaction.atomic
def key_retire(*, key: AuthorityKey, user: User = None, at: datetime | None = None) -> AuthorityKey:
    """Stop issuing with a key; its earlier credentials stay valid until they
    expire (DESIGN §5 key_not_valid_at_issuance)."""
    key = _locked(AuthorityKey, key.pk)
    _transition(key, to=KeyStatus.RETIRED, allowed=KEY_TRANSITIONS, what=f"key {key.kid}")
    key.retired_at = at or timezone.now()
    save_with_history(key, user=user, reason="retired")
    return key


@transaction.atomic
def key_mark_compromised(*, key: AuthorityKey, user: User = None, at: datetime | None = None) -> AuthorityKey:
    """Refuse every credential the key ever signed (DESIGN §5 key_compromised)."""
    key = _locked(AuthorityKey, key.pk)
    _transition(key, to=KeyStatus.COMPROMISED, allowed=KEY_TRANSITIONS, what=f"key {key.kid}")
    key.compromised_at = at or timezone.now()
    save_with_history(key, user=user, reason="compromised")
    return key


def key_by_kid(authority: Authority, kid: str) -> AuthorityKey:
    try:
        return AuthorityKey.objects.get(authority=authority, kid=kid)
    except AuthorityKey.DoesNotExist:
        raise ValidationError(f"authority {authority.issuer} has no key with kid {kid!r}") from None


# Merchants ----------------------------------------------------------------

MERCHANT_TRANSITIONS = {
    MerchantStatus.ACTIVE: {MerchantStatus.SUSPENDED, MerchantStatus.REVOKED},
    MerchantStatus.SUSPENDED: {MerchantStatus.ACTIVE, MerchantStatus.REVOKED},
    MerchantStatus.REVOKED: set(),
}


@transaction.atomic
def merchant_register(
    *,
    authority: Authority,
    registration_number: str,
    legal_name: str,
    assurance: str = Assurance.SUBSTANTIAL,
    lei: str = "",
    user: User = None,
) -> Merchant:
    if Assurance.rank(assurance) > Assurance.rank(authority.max_assurance):
        raise ValidationError(
            f"assurance {assurance} is above what {authority.issuer} is accredited for ({authority.max_assurance})"
        )
    merchant = Merchant(
        authority=authority,
        registration_number=registration_number,
        legal_name=legal_name,
        assurance=assurance,
        lei=lei,
    )
    save_with_history(merchant, user=user, reason="registered")
    return merchant


@transaction.atomic
def merchant_update(
    *, merchant: Merchant, legal_name: str, assurance: str, lei: str = "", user: User = None
) -> Merchant:
    """Change a merchant's details; its registration number (the credentials'
    `sub`) never changes."""
    merchant = _locked(Merchant, merchant.pk)
    if merchant.status == MerchantStatus.REVOKED:
        raise ValidationError(f"merchant {merchant.registration_number} is revoked; it is no longer changed")
    authority = merchant.authority
    if Assurance.rank(assurance) > Assurance.rank(authority.max_assurance):
        raise ValidationError(
            f"assurance {assurance} is above what {authority.issuer} is accredited for ({authority.max_assurance})"
        )
    merchant.legal_name, merchant.assurance, merchant.lei = legal_name, assurance, lei
    save_with_history(merchant, user=user, reason="details changed")
    return merchant


@transaction.atomic
def merchant_set_status(*, merchant: Merchant, status: str, user: User = None) -> Merchant:
    merchant = _locked(Merchant, merchant.pk)
    _transition(merchant, to=status, allowed=MERCHANT_TRANSITIONS, what=f"merchant {merchant.registration_number}")
    save_with_history(merchant, user=user, reason=f"status {status}")
    return merchant


def merchant_suspend(*, merchant: Merchant, user: User = None) -> Merchant:
    return merchant_set_status(merchant=merchant, status=MerchantStatus.SUSPENDED, user=user)


def merchant_revoke(*, merchant: Merchant, user: User = None) -> Merchant:
    return merchant_set_status(merchant=merchant, status=MerchantStatus.REVOKED, user=user)


def merchant_reinstate(*, merchant: Merchant, user: User = None) -> Merchant:
    return merchant_set_status(merchant=merchant, status=MerchantStatus.ACTIVE, user=user)


def merchant_by_number(authority: Authority, registration_number: str) -> Merchant:
    try:
        return Merchant.objects.get(authority=authority, registration_number=registration_number)
    except Merchant.DoesNotExist:
        raise ValidationError(f"{authority.issuer} has no merchant {registration_number!r}") from None


# Credential types and credentials -----------------------------------------


@transaction.atomic
def credential_type_create(*, code: str, name: str, description: str = "") -> CredentialType:
    credential_type = CredentialType(code=code, name=name, description=description)
    credential_type.full_clean()
    credential_type.save()
    return credential_type


def credential_type_by_code(code: str) -> CredentialType:
    try:
        return CredentialType.objects.get(code=code)
    except CredentialType.DoesNotExist:
        raise ValidationError(f"no credential type {code!r}") from None


MAX_KEY_FILE_BYTES = 1024 * 1024
# An RSA 16384-bit modulus is 2731 base64url characters; longer members would
# only make PyJWT's prime recovery (n, e, d without p, q) run for hours.
MAX_JWK_MEMBER_CHARS = 4096


def load_private_key(path: Path) -> Any:
    """Read a private signing key: a PEM (PKCS#8 or traditional) or a private
    JWK of an Ed25519, EC P-256/P-384 or RSA key.

    The refusals are written here and never repeat a library's message: PyJWT's
    quote the JWK, private members included, and cryptography's may quote the
    key. Both raise many exception types (InvalidKeyError, ValueError,
    TypeError, AttributeError, UnsupportedAlgorithm, RecursionError...), all of
    them caught."""
    data = _read_key_file(path)
    unreadable = (
        f"{path} holds no readable unencrypted private key "
        "(PEM, or a private JWK of an Ed25519, EC P-256/P-384 or RSA key)"
    )
    try:
        if data.lstrip().startswith(b"{"):
            key = _key_from_private_jwk(data, path)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except ValidationError:
        raise
    except Exception:
        raise ValidationError(unreadable) from None
    if not _is_signing_key(key):
        raise ValidationError(
            f"{path} holds a private key of a kind the registry does not sign with (use Ed25519, EC P-256/P-384 or RSA)"
        )
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ValidationError(f"cannot read private key {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ValidationError(f"{path} is larger than {MAX_KEY_FILE_BYTES} bytes; it is not a private key file")
    return data


def _key_from_private_jwk(data: bytes, path: Path) -> Any:
    """What PyJWT makes of a JWK, once the refusals that can be named without
    quoting the key are made."""
    jwk = json.loads(data.decode("utf-8"))
    if not isinstance(jwk, dict):
        raise ValidationError(f"{path} holds JSON that is not a JWK object")
    if jwk.get("kty") not in ("OKP", "EC", "RSA"):
        raise ValidationError(f"{path}: the JWK's 'kty' is missing or is not OKP, EC or RSA")
    if "d" not in jwk:
        raise ValidationError(f"{path} holds a public JWK; a private key is needed to sign")
    for member, value in jwk.items():
        if isinstance(value, str) and len(value) > MAX_JWK_MEMBER_CHARS:
            name = f"'{member}'" if len(member) <= 8 else "value"
            raise ValidationError(f"{path}: a JWK member {name} is longer than any key the registry uses")
    return jwt.PyJWK(jwk).key


def _is_signing_key(key: Any) -> bool:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.curve.name in ("secp256r1", "secp384r1")
    return isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)


@dataclass(frozen=True)
class Issued:
    token: str
    credential: IssuedCredential


def _key_for_private(authority: Authority, private_key: Any, kid: str | None) -> AuthorityKey:
    """The registered key whose public half matches `private_key`."""
    if not hasattr(private_key, "sign"):
        raise ValidationError("the key file holds a public key; a private key is needed to sign")
    public_print = thumbprint(public_jwk_of(private_key))
    candidates = [key_by_kid(authority, kid)] if kid else list(authority.keys.all())
    for key in candidates:
        if thumbprint(key.public_jwk) == public_print:
            return key
    if kid:
        raise ValidationError(f"the private key does not match key {kid!r} of {authority.issuer}")
    raise ValidationError(f"the private key matches no registered key of {authority.issuer}")


def _check_can_issue(*, merchant: Merchant, key: AuthorityKey, assurance: str, days: int, now: datetime) -> None:
    authority = merchant.authority
    problems = []
    if authority.status != AuthorityStatus.ACTIVE:
        problems.append(f"authority {authority.issuer} is {authority.status}")
    if merchant.status != MerchantStatus.ACTIVE:
        problems.append(f"merchant {merchant.registration_number} is {merchant.status}")
    if key.status != KeyStatus.ACTIVE:
        problems.append(f"key {key.kid} is {key.status}")
    if key.not_before > now or (key.not_after is not None and key.not_after <= now):
        problems.append(f"key {key.kid} is outside its validity window")
    if Assurance.rank(assurance) > Assurance.rank(authority.max_assurance):
        problems.append(f"assurance {assurance} is above the authority's accreditation ({authority.max_assurance})")
    if Assurance.rank(assurance) > Assurance.rank(merchant.assurance):
        problems.append(f"assurance {assurance} is above the merchant's ({merchant.assurance})")
    max_days = settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"]
    if not 1 <= days <= max_days:
        problems.append(f"days must be between 1 and {max_days}, not {days}")
    if problems:
        raise ValidationError("; ".join(problems))


@transaction.atomic
def credential_issue(
    *,
    merchant: Merchant,
    private_key: Any,
    credential_type: CredentialType,
    kid: str | None = None,
    assurance: str | None = None,
    days: int = 365,
    now: datetime | None = None,
    user: User = None,
) -> Issued:
    """Sign a credential of the DESIGN §4 profile and record it."""
    now = (now or timezone.now()).replace(microsecond=0)
    authority = merchant.authority
    key = _key_for_private(authority, private_key, kid)
    assurance = assurance or merchant.assurance
    _check_can_issue(merchant=merchant, key=key, assurance=assurance, days=days, now=now)
    expires = now + timedelta(days=days)
    jti = str(uuid.uuid4())
    merchant_claim = {
        "legal_name": merchant.legal_name,
        "registration_number": merchant.registration_number,
        "country": authority.country.code,
    }
    if merchant.lei:
        merchant_claim["lei"] = merchant.lei
    claims = {
        "iss": authority.issuer,
        "sub": merchant.registration_number,
        "jti": jti,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "credential_type": credential_type.code,
        "assurance": assurance,
        "merchant": merchant_claim,
    }
    token = jwt.encode(claims, private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": CREDENTIAL_TYP})
    credential = IssuedCredential(
        jti=jti,
        merchant=merchant,
        key=key,
        credential_type=credential_type,
        assurance=assurance,
        issued_at=now,
        expires_at=expires,
    )
    save_with_history(credential, user=user, reason="issued")
    return Issued(token=token, credential=credential)


@transaction.atomic
def credential_revoke(*, credential: IssuedCredential, reason: str = "", user: User = None) -> IssuedCredential:
    credential = _locked(IssuedCredential, credential.pk)
    if credential.status == CredentialStatus.REVOKED:
        raise ValidationError(f"credential {credential.jti} is already revoked")
    credential.status = CredentialStatus.REVOKED
    credential.revoked_at = timezone.now()
    credential.reason = reason
    save_with_history(credential, user=user, reason="revoked")
    return credential


def credential_by_jti(authority: Authority, jti: str) -> IssuedCredential:
    try:
        return IssuedCredential.objects.get(merchant__authority=authority, jti=jti)
    except IssuedCredential.DoesNotExist:
        raise ValidationError(f"{authority.issuer} has issued no credential {jti!r} through the registry") from None


def integrity_error_message(exc: IntegrityError) -> str:
    """A short message for a constraint the database enforced."""
    return f"the database refused the change: {str(exc).splitlines()[0]}"
