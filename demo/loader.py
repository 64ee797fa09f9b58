"""Demo data for a first run (`manage.py load_demo`): China and eight partner
countries of the Silk Road e-commerce corridor, their fictional authorities,
keys, merchants, credentials and a realistic mix of recognition agreements.

Everything is written through the services, inside one transaction, and keyed
on natural keys (issuer, kid, registration number, credential type per
merchant, (destination, authority), username, API key name), so a second run
writes nothing.
A status (retired key, suspended merchant, ...) is applied only when load_demo
created the row in the same run: it never undoes a change made in the admin.

Every private key under fixtures/demo-keys/, every demo password and every
demo API key is public knowledge. Demo only.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_api_key.crypto import concatenate

from accounts.models import ApiKey, Proposal, Role
from accounts.proposals import needs_second_person
from accounts.services import user_create_with_role
from demo.data import (
    ACCOUNTS,
    AGREEMENTS,
    API_KEYS,
    AUTHORITIES,
    CREDENTIAL_TYPES,
    PENDING_PROPOSAL,
    AccountSpec,
    AgreementSpec,
    ApiKeySpec,
    AuthoritySpec,
    CredentialSpec,
    ProposalSpec,
)
from identity.jose.key_files import load_private_key, public_jwk_of
from identity.lei import lei_with_check_digits
from identity.models import (
    Authority,
    AuthorityKey,
    AuthorityStatus,
    CredentialType,
    IssuedCredential,
    KeyStatus,
    Merchant,
    MerchantStatus,
)
from identity.services.authorities import authority_create
from identity.services.credentials import credential_issue, credential_type_create
from identity.services.keys import key_mark_compromised, key_register, key_retire
from identity.services.merchants import merchant_register, merchant_set_status
from recognition.models import AgreementStatus, RecognitionAgreement
from recognition.services.agreements import agreement_create, agreement_set_status, agreement_update_terms

DEMO_KEYS_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo-keys"


def login_url(host: str = "127.0.0.1", port: int = 8000) -> str:
    """The admin's address on the development server (`make run` passes its
    HOST and PORT); an IPv6 address goes in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/admin/"


def demo_key_path(file: str) -> Path:
    return DEMO_KEYS_DIR / file


@dataclass
class Report:
    """What one run created, and what was already there, per kind of row."""

    created: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, *, created: bool) -> None:
        bucket = self.created if created else self.present
        bucket[kind] = bucket.get(kind, 0) + 1
        (self.present if created else self.created).setdefault(kind, 0)

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


@transaction.atomic
def load_demo() -> Report:
    """Create the demo data that is missing; never change what exists."""
    now = timezone.now().replace(microsecond=0)
    report = Report()
    types = {code: _credential_type(code, name, description, report) for code, name, description in CREDENTIAL_TYPES}
    for spec in AUTHORITIES:
        _load_authority(spec, types, now=now, report=report)
    for agreement in AGREEMENTS:
        _agreement(agreement, types, report)
    for account in ACCOUNTS:
        _account(account, report)
    _pending_proposal(PENDING_PROPOSAL, types, report)
    for api_key in API_KEYS:
        _api_key(api_key, report)
    return report


def _credential_type(code: str, name: str, description: str, report: Report) -> CredentialType:
    existing = CredentialType.objects.filter(code=code).first()
    report.count("credential types", created=existing is None)
    return existing or credential_type_create(code=code, name=name, description=description)


def _load_authority(spec: AuthoritySpec, types: dict[str, CredentialType], *, now: datetime, report: Report) -> None:
    authority = Authority.objects.filter(issuer=spec.issuer).first()
    report.count("authorities", created=authority is None)
    if authority is None:
        authority = authority_create(
            country=spec.country, name=spec.name, issuer=spec.issuer, max_assurance=spec.max_assurance
        )
    private_keys = {key.kid: load_private_key(demo_key_path(key.file)) for key in spec.keys}
    new_keys = {}
    for key_spec in spec.keys:
        key = AuthorityKey.objects.filter(authority=authority, kid=key_spec.kid).first()
        report.count("keys", created=key is None)
        if key is None:
            new_keys[key_spec.kid] = key_register(
                authority=authority,
                jwk=public_jwk_of(private_keys[key_spec.kid]),
                alg=key_spec.alg,
                kid=key_spec.kid,
                not_before=key_spec.not_before,
            )
    new_merchants = {}
    for merchant_spec in spec.merchants:
        merchant = Merchant.objects.filter(
            authority=authority, registration_number=merchant_spec.registration_number
        ).first()
        report.count("merchants", created=merchant is None)
        if merchant is None:
            merchant = merchant_register(
                authority=authority,
                registration_number=merchant_spec.registration_number,
                legal_name=merchant_spec.legal_name,
                assurance=merchant_spec.assurance,
                lei=lei_with_check_digits(merchant_spec.lei_base) if merchant_spec.lei_base else "",
            )
            new_merchants[merchant_spec.registration_number] = merchant
        for credential in merchant_spec.credentials:
            _credential(merchant, credential, types, private_keys, now=now, report=report)
    # Statuses last: credentials signed before a key was retired or
    # compromised, or before a merchant was suspended, are part of the story.
    for key_spec in spec.keys:
        if key_spec.kid in new_keys and key_spec.status != KeyStatus.ACTIVE:
            at = now - timedelta(days=key_spec.status_days_ago)
            change = key_retire if key_spec.status == KeyStatus.RETIRED else key_mark_compromised
            change(key=new_keys[key_spec.kid], at=at)
    for merchant_spec in spec.merchants:
        merchant = new_merchants.get(merchant_spec.registration_number)
        if merchant is not None and merchant_spec.status != MerchantStatus.ACTIVE:
            merchant_set_status(merchant=merchant, status=merchant_spec.status)


def _credential(
    merchant: Merchant,
    spec: CredentialSpec,
    types: dict[str, CredentialType],
    private_keys: dict[str, Any],
    *,
    now: datetime,
    report: Report,
) -> None:
    credential_type = types[spec.type]
    if IssuedCredential.objects.filter(merchant=merchant, credential_type=credential_type).exists():
        report.count("issued credentials", created=False)
        return
    key = AuthorityKey.objects.get(authority=merchant.authority, kid=spec.kid)
    if not _can_still_issue(merchant, key):
        return  # changed in the admin since the first run; nothing to sign
    credential_issue(
        merchant=merchant,
        private_key=private_keys[spec.kid],
        credential_type=credential_type,
        kid=spec.kid,
        assurance=spec.assurance,
        days=min(spec.days, settings.REGISTRY["MAX_CREDENTIAL_LIFETIME_DAYS"]),
        now=now - timedelta(days=spec.issued_days_ago),
    )
    report.count("issued credentials", created=True)


def _can_still_issue(merchant: Merchant, key: AuthorityKey) -> bool:
    return (
        merchant.status == MerchantStatus.ACTIVE
        and merchant.authority.status == AuthorityStatus.ACTIVE
        and key.status == KeyStatus.ACTIVE
    )


def _agreement(spec: AgreementSpec, types: dict[str, CredentialType], report: Report) -> None:
    authority = Authority.objects.get(issuer=spec.issuer)
    exists = RecognitionAgreement.objects.filter(destination=spec.destination, authority=authority).exists()
    report.count("agreements", created=not exists)
    if exists:
        return
    agreement = agreement_create(
        destination=spec.destination,
        authority=authority,
        credential_types=[types[code] for code in spec.types],
        min_assurance=spec.min_assurance,
        legal_basis=spec.legal_basis,
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        notes=spec.notes,
        activate=spec.status != AgreementStatus.DRAFT,
    )
    if spec.status in (AgreementStatus.SUSPENDED, AgreementStatus.TERMINATED):
        agreement_set_status(agreement=agreement, status=spec.status)


def _pending_proposal(spec: ProposalSpec, types: dict[str, CredentialType], report: Report) -> None:
    """The demo's widening of trust awaiting a second administrator, proposed
    through the service as its proposer would. Made once: not again once the
    agreement has any proposal (pending, approved, refused, withdrawn,
    stale), nor where a change in the admin made it moot."""
    agreement = RecognitionAgreement.objects.filter(destination=spec.destination, authority__issuer=spec.issuer).first()
    proposer = get_user_model().objects.filter(username=spec.proposer, is_active=True).first()
    covered = set(agreement.credential_types.values_list("code", flat=True)) if agreement else set()
    due = (
        agreement is not None
        and proposer is not None
        and needs_second_person(proposer)  # a country administrator: proposes, never applies
        and agreement.status in (AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED)
        and not covered >= set(spec.add_types)
        and not Proposal.objects.filter(target_model=RecognitionAgreement._meta.label, target_id=agreement.pk).exists()
    )
    report.count("proposals", created=due)
    if not due:
        return
    agreement_update_terms(
        agreement=agreement,
        credential_types=[types[code] for code in sorted(covered | set(spec.add_types))],
        user=proposer,
        reason=spec.reason,
    )


def _account(spec: AccountSpec, report: Report) -> None:
    User = get_user_model()
    exists = User.objects.filter(username=spec.username).exists()
    report.count("users", created=not exists)
    if exists:
        return
    if spec.role == "superuser":
        user = User(username=spec.username, email=f"{spec.username}@registry.example")
        validate_password(spec.password, user)
        User.objects.create_superuser(spec.username, user.email, spec.password)
    else:
        user_create_with_role(username=spec.username, role=spec.role, country=spec.country, password=spec.password)


def _api_key(spec: ApiKeySpec, report: Report) -> None:
    """A key with the published demo secret, stored as the library stores
    any key: id `<prefix>.<hash>`, the prefix, and the hash of the whole key."""
    exists = ApiKey.objects.filter(name=spec.name).exists()
    report.count("API keys", created=not exists)
    if exists:
        return  # possibly revoked in the admin since: never undone
    if ApiKey.objects.filter(prefix=spec.prefix).exists():
        raise ValidationError(f"another API key already has the demo prefix {spec.prefix!r}")
    hashed_key = ApiKey.objects.key_generator.hash(spec.key)
    api_key = ApiKey(
        id=concatenate(spec.prefix, hashed_key),
        prefix=spec.prefix,
        hashed_key=hashed_key,
        name=spec.name,
        role=spec.role,
    )
    api_key.full_clean()
    api_key.save(force_insert=True)


def role_label(spec: AccountSpec) -> str:
    if spec.role == Role.COUNTRY_ADMIN:
        return f"country administrator ({spec.country})"
    return "superuser" if spec.role == "superuser" else str(Role(spec.role).label).lower()


def format_report(report: Report, *, admin_url: str | None = None) -> str:
    admin_url = admin_url or login_url()
    countries = ", ".join(dict.fromkeys(spec.country for spec in AUTHORITIES))
    lines = [f"Demo data for {countries} (fictional authorities; keys in fixtures/demo-keys/ are DEMO ONLY):"]
    for kind in report.created:
        lines.append(f"  {kind:<20} {report.created[kind]:>3} created, {report.present[kind]:>3} already present")
    if report.created_total == 0:
        lines.append("  Nothing to do: the demo data was already loaded.")
    lines += ["", f"Demo accounts (log in at {admin_url}; demo passwords, never use them anywhere real):"]
    lines.append(f"  {'username':<16} {'role':<30} password")
    for account in ACCOUNTS:
        lines.append(f"  {account.username:<16} {role_label(account):<30} {account.password}")
    lines += ["", "Demo API keys (send 'Authorization: Api-Key <key>'; demo secrets, never use them anywhere real):"]
    lines.append(f"  {'name':<20} {'role':<10} key")
    for api_key in API_KEYS:
        lines.append(f"  {api_key.name:<20} {api_key.role:<10} {api_key.key}")
    return "\n".join(lines)
