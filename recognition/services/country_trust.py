"""One country's trust, as its administrators read it on the trust-list page
(recognition/web/trust.py): the foreign authorities it recognizes, the
agreements of other countries that recognize its own authorities
(reciprocity, DESIGN §3: a derived fact), and its own authorities (domestic
trust, DESIGN §1), each authority with its keys, each agreement with the
problems that would refuse every credential under it (services/feasibility.py).

Read from the current rows, at one instant, in a fixed number of queries
whatever the number of agreements: the agreements both ways in one query
(their authorities joined, credential types and keys prefetched), the
country's own authorities and their keys in two more.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from identity.models import Authority, KeyStatus
from recognition.models import AgreementStatus, RecognitionAgreement
from recognition.services.feasibility import Problem, ProblemCode, agreement_problems, authority_now
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot, KeySnapshot, current_policy

_WINDOW = (ProblemCode.NOT_YET_IN_FORCE, ProblemCode.WINDOW_ENDED)


@dataclass(frozen=True)
class KeyLine:
    key: KeySnapshot
    usable: bool  # could sign a credential accepted at the instant (KeySnapshot.usable)

    @property
    def compromised(self) -> bool:
        return self.key.status == KeyStatus.COMPROMISED


@dataclass(frozen=True)
class AgreementLine:
    agreement: RecognitionAgreement  # the row: legal basis, reference URL
    snapshot: AgreementSnapshot
    authority: AuthoritySnapshot
    type_names: tuple[str, ...]
    keys: tuple[KeyLine, ...]
    in_force: bool
    problems: tuple[Problem, ...]
    reciprocal: bool  # the origin recognizes an authority of the destination (active or suspended)

    @property
    def why_not_in_force(self) -> str:
        """Empty while in force; else its status, or its window."""
        if self.in_force:
            return ""
        if self.snapshot.status != AgreementStatus.ACTIVE:
            return str(AgreementStatus(self.snapshot.status).label).lower()
        return "; ".join(p.detail for p in self.problems if p.code in _WINDOW)


@dataclass(frozen=True)
class OwnAuthority:
    authority: AuthoritySnapshot
    keys: tuple[KeyLine, ...]
    recognized_by: tuple[AgreementLine, ...]  # other countries' agreements for it, drafts aside


@dataclass(frozen=True)
class CountryTrust:
    country: str
    at: datetime
    we_recognize: tuple[AgreementLine, ...]  # active or suspended
    drafts: tuple[AgreementLine, ...]  # only when asked for (drafts are not public, DESIGN §10)
    recognize_us: tuple[AgreementLine, ...]  # active or suspended
    own: tuple[OwnAuthority, ...]


def _keys(authority: AuthoritySnapshot, at: datetime) -> tuple[KeyLine, ...]:
    max_lifetime = current_policy().max_lifetime
    return tuple(KeyLine(key=key, usable=key.usable(at, max_lifetime=max_lifetime)) for key in authority.keys)


def _line(agreement: RecognitionAgreement, at: datetime) -> AgreementLine:
    snapshot = AgreementSnapshot.of(agreement)
    authority = authority_now(agreement.authority)
    return AgreementLine(
        agreement=agreement,
        snapshot=snapshot,
        authority=authority,
        type_names=tuple(t.name for t in sorted(agreement.credential_types.all(), key=lambda t: t.code)),
        keys=_keys(authority, at),
        in_force=snapshot.in_force(at),
        problems=tuple(agreement_problems(snapshot, authority, at)),
        reciprocal=agreement.has_reciprocal,
    )


def country_trust(country: str, *, at: datetime, with_drafts: bool) -> CountryTrust:
    """What `country` trusts at `at`, and who trusts its authorities.
    Terminated agreements are over and left out; drafts of the country are
    listed apart when `with_drafts` (its administrators and regulators)."""
    rows = (
        RecognitionAgreement.objects.filter(Q(destination=country) | Q(origin=country))
        .exclude(status=AgreementStatus.TERMINATED)
        .select_related("authority")
        .prefetch_related("credential_types", "authority__keys")
        .with_reciprocal("has_reciprocal")
        .order_by("origin", "destination", "authority__name", "id")
    )
    ours, theirs, drafts = [], [], []
    for agreement in rows:
        if agreement.status == AgreementStatus.DRAFT:
            if with_drafts and agreement.destination == country:
                drafts.append(_line(agreement, at))
            continue  # another country's draft is not public, and recognizes nothing yet
        (ours if agreement.destination == country else theirs).append(_line(agreement, at))
    by_authority: dict[int, list[AgreementLine]] = defaultdict(list)
    for line in theirs:
        by_authority[line.authority.id].append(line)
    own = []
    for authority in Authority.objects.filter(country=country).prefetch_related("keys").order_by("name", "id"):
        snapshot = authority_now(authority)
        own.append(OwnAuthority(snapshot, _keys(snapshot, at), tuple(by_authority[authority.id])))
    return CountryTrust(
        country=country,
        at=at,
        we_recognize=tuple(ours),
        drafts=tuple(drafts),
        recognize_us=tuple(theirs),
        own=tuple(own),
    )
