"""TRQP answers (DESIGN §9), from history through `point_in_time`, so that
`context.time` is answered as the rules stood then.

- Authorization ("may authority `entity_id` of country `authority_id` issue
  `resource`?"): yes while the authority is of that country and active at the
  instant. The model keeps no per-authority list of credential types, so an
  active authority may issue every registered type; the level of assurance is
  bounded by its `max_assurance`, which the verification checks per credential.
- Recognition ("does country `authority_id` recognize authority `entity_id`
  for `resource`?"): yes for its own active authorities (domestic trust,
  DESIGN §1), or when an agreement in force at the instant covers the type;
  and, as everywhere recognition is answered (point_in_time), only while one
  of the authority's keys was usable then: with none, every credential of it
  is refused whatever the agreement says.
- Authorization is the mandate, not the means: an active authority is
  authorized to issue even while it has no usable key (it may register one
  at any time); the keys are for recognition, and the verification, to
  weigh.

An issuer the registry has never known is an unknown entity (404), and an
`authority_id` that is neither a country code nor a country's alias an
unknown authority (404, recognition/trqp/identifiers.py); answers echo the
`authority_id` as asked. One registered only after the instant is known: the
answer is false, saying so.
Drafts are not mentioned in messages, as they are not public (DESIGN §10).
CredentialType keeps no history: "registered" means registered now.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.instants import iso
from identity.models import Assurance, Authority, CredentialType
from recognition.models import RecognitionAgreement
from recognition.services.point_in_time import agreements_at, authorities_at
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot, current_policy
from recognition.trqp.identifiers import country_alias, country_of

ISSUE, RECOGNIZE = "issue", "recognize"
ACTIVE, DRAFT = "active", "draft"

ASSURANCE_DESCRIPTIONS = {
    Assurance.LOW: "eIDAS low: limited confidence in the claimed identity of the merchant.",
    Assurance.SUBSTANTIAL: "eIDAS substantial: substantial confidence in the claimed identity of the merchant.",
    Assurance.HIGH: "eIDAS high: a higher degree of confidence in the claimed identity than substantial.",
}


class UnknownEntity(LookupError):
    """No authority has ever had this issuer."""


@dataclass(frozen=True)
class Verdict:
    granted: bool
    message: str


@dataclass(frozen=True)
class TrqpAnswer:
    entity_id: str
    authority_id: str
    action: str
    resource: str
    time_requested: datetime  # the instant the question is about
    time_evaluated: datetime  # when the registry answered
    granted: bool
    message: str


def authorization_verdict(
    *,
    authority: AuthoritySnapshot | None,
    entity_id: str,
    authority_id: str,
    resource: str,
    type_known: bool,
    at: datetime,
) -> Verdict:
    """Pure: may this authority issue `resource` in `authority_id` at `at`?"""
    when = iso(at)
    if authority is None:
        return Verdict(False, f"{entity_id} was not a registered authority at {when}")
    if authority.country != authority_id:
        return Verdict(False, f"{entity_id} is an authority of {authority.country}, not of {authority_id}")
    if not type_known:
        return Verdict(False, f"{resource!r} is not a credential type registered here")
    if authority.status != ACTIVE:
        return Verdict(False, f"{entity_id} was {authority.status} at {when}")
    return Verdict(
        True,
        f"{entity_id} was an active authority of {authority_id} at {when}; "
        f"an active authority may issue every registered credential type, {resource} included",
    )


def _agreement_list(agreements: list[AgreementSnapshot]) -> str:
    """`#8 active, valid 2019-01-01T00:00:00Z to 2025-01-01T00:00:00Z; #9 suspended`."""
    parts = []
    for a in agreements:
        window = f", valid {iso(a.valid_from)} to {iso(a.valid_until) if a.valid_until else 'open-ended'}"
        parts.append(f"#{a.id} {a.status}" + (window if a.status == ACTIVE else ""))
    return "; ".join(parts)


def recognition_verdict(
    *,
    authority: AuthoritySnapshot | None,
    entity_id: str,
    authority_id: str,
    resource: str,
    type_known: bool,
    agreements: list[AgreementSnapshot],
    at: datetime,
) -> Verdict:
    """Pure: did `authority_id` recognize this authority for `resource` at `at`?
    The terms, then the keys (point_in_time.recognize)."""
    when = iso(at)
    if authority is None:
        return Verdict(False, f"{entity_id} was not a registered authority at {when}")
    if not type_known:
        return Verdict(False, f"{resource!r} is not a credential type registered here")
    if authority.status != ACTIVE:
        return Verdict(False, f"{entity_id} was {authority.status} at {when}; no country recognizes it then")
    if authority.country == authority_id:
        domestic = Verdict(True, f"{entity_id} was an active authority of {authority_id} at {when}: domestic trust")
        return _unless_no_usable_key(domestic, authority, entity_id, at)
    mine = sorted(
        (
            a
            for a in agreements
            if a.authority_id == authority.id and a.destination == authority_id and a.status != DRAFT
        ),
        key=lambda a: a.id,
    )
    if not mine:
        return Verdict(False, f"{authority_id} had no agreement recognizing {entity_id} at {when}")
    in_force = [a for a in mine if a.in_force(at)]
    if not in_force:
        return Verdict(
            False, f"no agreement of {authority_id} for {entity_id} was in force at {when} ({_agreement_list(mine)})"
        )
    covering = [a for a in in_force if resource in a.credential_types]
    if not covering:
        covered = ", ".join(sorted({code for a in in_force for code in a.credential_types}))
        ids = ", ".join(f"#{a.id}" for a in in_force)
        return Verdict(
            False, f"the agreements of {authority_id} in force at {when} ({ids}) cover {covered}, not {resource}"
        )
    agreement = covering[0]
    terms = Verdict(
        True,
        f"{authority_id} recognized {entity_id} for {resource} at {when} under agreement #{agreement.id} "
        f"(from assurance {agreement.min_assurance})",
    )
    return _unless_no_usable_key(terms, authority, entity_id, at)


def _unless_no_usable_key(terms: Verdict, authority: AuthoritySnapshot, entity_id: str, at: datetime) -> Verdict:
    """The terms' verdict, refused when no key of the authority was usable
    (point_in_time.recognize)."""
    if authority.has_usable_key(at, max_lifetime=current_policy().max_lifetime):
        return terms
    when = iso(at)
    keys = ", ".join(f"{key.kid} {key.status}" for key in authority.keys) or "none registered"
    return Verdict(
        False,
        f"the terms held ({terms.message}), but no key of {entity_id} could sign a credential accepted at "
        f"{when} (keys: {keys})",
    )


def _authority_at(entity_id: str, at: datetime) -> AuthoritySnapshot | None:
    states = authorities_at(at, issuer=entity_id)
    if states:
        return states[0]
    if not Authority.history.filter(issuer=entity_id).exists():
        raise UnknownEntity(f"no authority has the issuer {entity_id[:200]!r}")
    return None


def _type_known(code: str) -> bool:
    return CredentialType.objects.filter(code=code).exists()


def trqp_authorization(*, entity_id: str, authority_id: str, resource: str, at: datetime | None) -> TrqpAnswer:
    """DESIGN §9 `POST /trqp/authorization`; raises UnknownAuthority, UnknownEntity."""
    now = timezone.now()
    when = at or now
    country = country_of(authority_id)
    authority = _authority_at(entity_id, when)
    verdict = authorization_verdict(
        authority=authority,
        entity_id=entity_id,
        authority_id=country,
        resource=resource,
        type_known=_type_known(resource),
        at=when,
    )
    return TrqpAnswer(entity_id, authority_id, ISSUE, resource, when, now, verdict.granted, verdict.message)


def trqp_recognition(*, entity_id: str, authority_id: str, resource: str, at: datetime | None) -> TrqpAnswer:
    """DESIGN §9 `POST /trqp/recognition`; raises UnknownAuthority, UnknownEntity."""
    now = timezone.now()
    when = at or now
    country = country_of(authority_id)
    authority = _authority_at(entity_id, when)
    foreign = authority is not None and authority.country != country
    agreements = agreements_at(when, destination=country, authority_ids=[authority.id]) if foreign else []
    verdict = recognition_verdict(
        authority=authority,
        entity_id=entity_id,
        authority_id=country,
        resource=resource,
        type_known=_type_known(resource),
        agreements=agreements,
        at=when,
    )
    return TrqpAnswer(entity_id, authority_id, RECOGNIZE, resource, when, now, verdict.granted, verdict.message)


# Ayra profile extensions ----------------------------------------------------


def served_countries() -> list[str]:
    """The countries the registry has authorities of, or public (not draft)
    agreements for, in code order."""
    codes = {str(code) for code in Authority.objects.values_list("country", flat=True).distinct()}
    public = RecognitionAgreement.objects.exclude(status=DRAFT)
    codes |= {str(code) for code in public.values_list("destination", flat=True).distinct()}
    return sorted(codes)


def trqp_metadata() -> dict[str, Any]:
    """`authority_ids`: each served country's did:web alias, by country code
    (empty when REGISTRY_ISSUER has no host to make one of)."""
    issuer = settings.REGISTRY["ISSUER"]
    aliases = {country: country_alias(country) for country in served_countries()}
    return {
        "id": issuer,
        "name": "Merchant identity mutual-recognition registry",
        "description": (
            "Which authorities issue merchant identity credentials in which country, and which countries recognize "
            "them. authority_id is an ISO 3166-1 alpha-2 country code; entity_id is an authority's issuer; action "
            "is 'issue' (authorization) or 'recognize' (recognition); resource is a credential type code. "
            "authority_id may also be a country's alias, did:web:<registry host>:<country code in lower case>, "
            "as authority_ids lists them."
        ),
        "controllers": [issuer],
        "authority_ids": {country: alias for country, alias in aliases.items() if alias},
    }


def trqp_assurance_levels() -> list[dict[str, str]]:
    return [{"assurance_level": level, "description": ASSURANCE_DESCRIPTIONS[level]} for level in Assurance.values]


def trqp_authorizations() -> list[dict[str, str]]:
    """Every action + resource pair that may be asked: both actions for every
    registered credential type."""
    pairs = []
    for code, name in CredentialType.objects.order_by("code").values_list("code", "name"):
        pairs.append({"action": ISSUE, "resource": code, "description": f"issue {name} credentials"})
        pairs.append({"action": RECOGNIZE, "resource": code, "description": f"recognize {name} credentials"})
    return pairs


@dataclass(frozen=True)
class EntityPage:
    items: list[dict[str, str]]
    total: int


def trqp_entities(*, authority_id: str, limit: int, offset: int) -> EntityPage:
    """The authorities of the country `authority_id` names as they are now, by
    name, `limit` from `offset`; raises UnknownAuthority."""
    authorities = Authority.objects.filter(country=country_of(authority_id)).order_by("name", "id")
    rows = authorities[offset : offset + limit]
    items = [
        {
            "entity_id": a.issuer,
            "name": a.name,
            "authority_id": authority_id,
            "status": a.status,
            "max_assurance": a.max_assurance,
        }
        for a in rows
    ]
    return EntityPage(items=items, total=authorities.count())
