"""The registry as a decision sees it: frozen snapshots of authorities, keys,
merchants and agreements, and the configured tolerances (`Policy`). Each rule
about them is written once, as a method (`AgreementSnapshot.in_force(at)`,
`KeySnapshot.usable(at)`): the registry's API, its point-in-time answers and
this package all ask these methods, so they cannot disagree about what is in
force or which key could sign.

Plain values: the registry builds them from its database rows, a verifier at
the edge from the registry's signed lists. Statuses are the registry's public
strings (DESIGN §2).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from merchant_verifier.algorithms import ALLOWED_ALGS
from merchant_verifier.jwk import public_key_of
from merchant_verifier.signature import Check, verifier_of
from merchant_verifier.tokens import ParsedToken

# eIDAS levels of assurance, in increasing order (DESIGN §2).
LEVELS = ("low", "substantial", "high")
KEY_COMPROMISED = "compromised"
AGREEMENT_ACTIVE = "active"


@dataclass(frozen=True)
class Policy:
    """The configured tolerances of a verification (DESIGN §4, §5)."""

    leeway: timedelta
    max_lifetime: timedelta


@dataclass(frozen=True)
class KeySnapshot:
    id: int
    kid: str
    alg: str
    jwk: dict[str, Any]
    status: str
    not_before: datetime
    not_after: datetime | None
    retired_at: datetime | None
    compromised_at: datetime | None = None

    @cached_property
    def public_key(self) -> Any:
        """The key object, built once for as long as the snapshot lives."""
        return public_key_of(self.jwk)

    @cached_property
    def _check(self) -> Check:
        if self.alg not in ALLOWED_ALGS:
            return verifier_of(None, self.alg)  # never built: a P-521 key (ES512) has no curve here
        return verifier_of(self.public_key, self.alg)

    def verifies(self, parsed: ParsedToken) -> bool:
        return self._check(parsed.signing_input, parsed.signature)

    def usable(self, at: datetime, *, max_lifetime: timedelta) -> bool:
        """Whether a credential signed with this key, as the key stood at `at`,
        could be accepted at `at` (DESIGN §5): the key is not compromised
        (that refuses every credential it signed), and some issuance instant
        `iat` passes every time check then: not_before <= iat < not_after,
        iat <= retired_at (a retired key's earlier credentials stay valid
        until they expire), iat <= at (not issued in the future), and at < exp
        <= iat + the maximum lifetime (not expired). The verification leeway,
        a tolerance for clocks, is not counted. Differences of instants, never
        sums, so that the years 0001 and 9999 do not overflow."""
        if self.status == KEY_COMPROMISED:
            return False
        last = at if self.retired_at is None else min(at, self.retired_at)  # the latest iat accepted
        if self.not_before > last or at - last >= max_lifetime:
            return False
        not_after = self.not_after
        return not_after is None or (self.not_before < not_after and at - not_after < max_lifetime)


@dataclass(frozen=True)
class AgreementSnapshot:
    id: int
    version: int | None  # the registry's number of this version of the agreement
    authority_id: int
    destination: str
    origin: str
    status: str
    valid_from: datetime
    valid_until: datetime | None
    min_assurance: str
    credential_types: tuple[str, ...]  # sorted
    legal_basis: str

    def started(self, at: datetime) -> bool:
        """valid_from is inclusive."""
        return self.valid_from <= at

    def ended(self, at: datetime) -> bool:
        """valid_until is exclusive; an open-ended window never ends."""
        return self.valid_until is not None and at >= self.valid_until

    def in_window(self, at: datetime) -> bool:
        return self.started(at) and not self.ended(at)

    def in_force(self, at: datetime) -> bool:
        """Active and inside its window at `at` (DESIGN §5 agreement_not_in_force)."""
        return self.status == AGREEMENT_ACTIVE and self.in_window(at)


@dataclass(frozen=True)
class AuthoritySnapshot:
    id: int
    issuer: str
    name: str
    country: str
    status: str
    max_assurance: str
    keys: tuple[KeySnapshot, ...] = ()  # filled by the point-in-time reads; the decision looks keys up by kid

    def has_usable_key(self, at: datetime, *, max_lifetime: timedelta) -> bool:
        return any(key.usable(at, max_lifetime=max_lifetime) for key in self.keys)


@dataclass(frozen=True)
class MerchantSnapshot:
    registration_number: str
    legal_name: str
    status: str
