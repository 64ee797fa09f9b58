"""Can this recognition ever succeed? The problems that make every credential
under an agreement rejected at an instant, each with a code and a sentence
for the administrator.

Each rule stays where it lives and is only asked here: the assurance order
of the decision (`verify.above`: a credential above its authority's
accreditation is refused with assurance_exceeds_accreditation, one below the
agreement's minimum with assurance_below_minimum, so a minimum above the
accreditation refuses every credential), the key rule of the decision and
the point-in-time answers (`KeySnapshot.usable` through
`AuthoritySnapshot.has_usable_key`), and the agreement's window
(`AgreementSnapshot.started` / `ended`).

A draft is judged as if it were activated: its status is no problem, what
would refuse its credentials once in force is, so that whoever prepares it is
warned before activation. The admin warns on saving an agreement and shows
the problems on its page; the matrix (`cannot_succeed`) and the trust-list
page ask the same function.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django_countries import countries

from core.instants import iso
from identity.models import Authority, AuthorityStatus
from merchant_verifier.decide import above
from recognition.models import AgreementStatus, RecognitionAgreement
from recognition.snapshots import AgreementSnapshot, AuthoritySnapshot, KeySnapshot, current_policy


class ProblemCode(models.TextChoices):
    ASSURANCE_ABOVE_ACCREDITATION = "assurance_above_accreditation", "Minimum assurance above the accreditation"
    NO_USABLE_KEY = "no_usable_key", "No usable key"
    WINDOW_ENDED = "window_ended", "Window ended"
    NOT_YET_IN_FORCE = "not_yet_in_force", "Not yet in force"
    AUTHORITY_SUSPENDED = "authority_suspended", "Authority suspended"
    AUTHORITY_REVOKED = "authority_revoked", "Authority revoked"
    AGREEMENT_SUSPENDED = "agreement_suspended", "Agreement suspended"
    AGREEMENT_TERMINATED = "agreement_terminated", "Agreement terminated"


@dataclass(frozen=True)
class Problem:
    code: ProblemCode
    detail: str


def _whose(authority: AuthoritySnapshot) -> str:
    return f"{countries.name(authority.country) or authority.country}'s authority"


def _key_problem(authority: AuthoritySnapshot) -> Problem:
    if not authority.keys:
        detail = f"{_whose(authority)} has registered no key"
    else:
        states = ", ".join(f"{key.kid} {key.status}" for key in authority.keys)
        detail = (
            f"{_whose(authority)} has no key that can sign a credential accepted now "
            f"(compromised, retired or past its validity: {states})"
        )
    return Problem(ProblemCode.NO_USABLE_KEY, detail)


def agreement_problems(agreement: AgreementSnapshot, authority: AuthoritySnapshot, at: datetime) -> list[Problem]:
    """Why every credential under `agreement` is rejected at `at`, in the
    order an administrator fixes them; empty when one could be accepted.
    `authority` carries its keys as they stood at `at`."""
    problems = []
    if agreement.status == AgreementStatus.SUSPENDED:
        problems.append(Problem(ProblemCode.AGREEMENT_SUSPENDED, "this agreement is suspended"))
    elif agreement.status == AgreementStatus.TERMINATED:
        problems.append(Problem(ProblemCode.AGREEMENT_TERMINATED, "this agreement is terminated (final)"))
    if not agreement.started(at):
        detail = f"this agreement is not in force before {iso(agreement.valid_from)}"
        problems.append(Problem(ProblemCode.NOT_YET_IN_FORCE, detail))
    elif agreement.ended(at):
        detail = f"this agreement's window ended on {iso(agreement.valid_until)}"
        problems.append(Problem(ProblemCode.WINDOW_ENDED, detail))
    if authority.status == AuthorityStatus.SUSPENDED:
        problems.append(Problem(ProblemCode.AUTHORITY_SUSPENDED, f"{_whose(authority)} is suspended"))
    elif authority.status == AuthorityStatus.REVOKED:
        problems.append(Problem(ProblemCode.AUTHORITY_REVOKED, f"{_whose(authority)} is revoked (final)"))
    if above(agreement.min_assurance, authority.max_assurance):
        detail = (
            f"{_whose(authority)} may issue at most {authority.max_assurance}, "
            f"this agreement asks {agreement.min_assurance}"
        )
        problems.append(Problem(ProblemCode.ASSURANCE_ABOVE_ACCREDITATION, detail))
    if not authority.has_usable_key(at, max_lifetime=current_policy().max_lifetime):
        problems.append(_key_problem(authority))
    return problems


def recognition_problems(
    agreements: Iterable[AgreementSnapshot], authority: AuthoritySnapshot, at: datetime
) -> list[Problem]:
    """The problems of a destination's agreements for one authority, when
    none of them can succeed (each problem once); empty when one can, or when
    there is none."""
    found: list[Problem] = []
    for agreement in agreements:
        problems = agreement_problems(agreement, authority, at)
        if not problems:
            return []
        found += [problem for problem in problems if problem not in found]
    return found


def authority_now(authority: Authority) -> AuthoritySnapshot:
    """The snapshot of an authority as it stands, with its keys (prefetch
    `keys` to read many)."""
    return AuthoritySnapshot.of(authority, keys=tuple(KeySnapshot.of(key) for key in authority.keys.all()))


def problems_now(agreement: RecognitionAgreement, at: datetime) -> list[Problem]:
    """The problems of an agreement as it stands (prefetch its credential
    types and its authority's keys to read many)."""
    return agreement_problems(AgreementSnapshot.of(agreement), authority_now(agreement.authority), at)


def warning(problems: Iterable[Problem]) -> str:
    """The sentence the administrator reads; empty when nothing is wrong."""
    details = "; ".join(problem.detail for problem in problems)
    return f"Every credential under this agreement will be rejected: {details}." if details else ""
