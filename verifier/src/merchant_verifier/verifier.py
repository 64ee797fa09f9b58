"""`Verifier`: the registry's decision (DESIGN §5) at a platform's edge, from
the registry's signed lists, without asking the registry for each token.

    verifier = Verifier("https://registry.example", "CN", cache_dir="/var/cache/merchant-lists")
    answer = verifier.verify(token, origin="CL")
    answer.accepted, answer.to_dict()

The token is parsed and decided by the registry's own code
(`merchant_verifier.tokens`, `merchant_verifier.decide`); only the subject of
the decision comes from lists instead of the registry's database:

- the authority (by `iss`), its key (by `kid`, with status and validity) and
  the agreements recognizing it: the destination's trust list. An authority
  absent from it is `unknown_issuer`: the list does not say why it is absent
  (unknown, no agreement, agreement out of force, suspended or revoked);
- the merchant's status: the merchant-status list of the authority's
  country; a merchant absent from it is active (the list holds every
  merchant that is not; a verifier cannot tell an unregistered one:
  `unknown_merchant` is never given);
- a registry-issued credential's status: its Token Status List entry
  (claim `status.status_list`) read beside the merchant's status, since an
  entry covers both (1 is credential_revoked unless the merchant is listed
  revoked, 2 credential_suspended unless the merchant is listed suspended);
  for a credential without that claim, the merchant-status list's
  `credentials` by `jti`. A status URI that is not this registry's is
  ignored: nothing named by a token is ever fetched;
- the registered credential types are not in any list: the token's type is
  taken as registered (`invalid_claim` for an unregistered type is never
  given; abroad, no agreement covers it: credential_type_not_recognized).

A list that cannot be had stops the decision: the answer is rejected with
`lists_unavailable` or `lists_expired` alone (lists.py says when).
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from merchant_verifier.contents import MerchantStatus, TrustList, status_of
from merchant_verifier.decide import Decision, Subject, decide
from merchant_verifier.fetch import Fetcher, Opener
from merchant_verifier.lists import (
    Document,
    Lists,
    country_code,
    merchant_status_document,
    status_list_document,
    status_list_number,
    trust_list_document,
)
from merchant_verifier.model import MerchantSnapshot, Policy
from merchant_verifier.reasons import Reason
from merchant_verifier.signed import ListError
from merchant_verifier.status_list import INVALID, MAX_BYTES, SUSPENDED, VALID
from merchant_verifier.tokens import ParsedToken, parse_token

DEFAULT_POLICY = Policy(leeway=timedelta(seconds=60), max_lifetime=timedelta(days=400))
MAX_TOKEN_BYTES = 8 * 1024  # DESIGN §5 token_too_large, the registry's default
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_STATUS_LISTS = 10_000  # prefetch: status lists 1, 2, ... until the registry answers 404


@lru_cache(maxsize=1024)  # the same instants recur: an agreement's window, a credential's dates
def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=4096)
def _numeric_date_of(value: int | float) -> str | None:
    try:
        return iso(datetime.fromtimestamp(value, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _numeric_date(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN is never cached
        return None
    return _numeric_date_of(value)


class _Presented:
    """A member of `Answer` built from the decision when first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, answer: "Answer | None", owner: type | None = None) -> Any:
        if answer is None:
            return self
        if answer._presented is None:
            answer._presented = _presented(answer._decided, answer._subject, answer._at)
        return answer._presented[self.name]


class Answer:
    """The registry API's answer (DESIGN §5) minus `id` and `audit`.

    `decision`, `accepted`, `reasons` and `destination` are set when the
    answer is made. The members that present the decision (`origin`,
    `evaluated_at`, `issuer`, `merchant`, `credential`, `agreement`) are
    built the first time one of them is read: a platform that reads only
    `accepted` and `reasons` does not pay for the others."""

    __slots__ = ("decision", "accepted", "reasons", "destination", "_decided", "_subject", "_at", "_presented")

    origin = _Presented()
    evaluated_at = _Presented()
    issuer = _Presented()
    merchant = _Presented()
    credential = _Presented()
    agreement = _Presented()

    def __init__(self, decided: Decision, subject: Subject, evaluated_at: datetime) -> None:
        self.accepted = not decided.reasons
        self.decision = "accepted" if self.accepted else "rejected"
        self.reasons = tuple([{"code": str(code), "detail": detail} for code, detail in decided.reasons])
        self.destination = subject.destination
        self._decided, self._subject, self._at = decided, subject, evaluated_at
        self._presented: dict[str, Any] | None = None

    @property
    def codes(self) -> list[str]:
        return [reason["code"] for reason in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "accepted": self.accepted,
            "reasons": [dict(reason) for reason in self.reasons],
            "origin": self.origin,
            "destination": self.destination,
            "evaluated_at": self.evaluated_at,
            "issuer": self.issuer,
            "merchant": self.merchant,
            "credential": self.credential,
            "agreement": self.agreement,
        }

    def __eq__(self, other: object) -> bool:
        return self.to_dict() == other.to_dict() if isinstance(other, Answer) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # its members are dicts

    def __repr__(self) -> str:
        return f"Answer({self.decision}, {self.codes})"


def _presented(decision: Decision, subject: Subject, evaluated_at: datetime) -> dict[str, Any]:
    """As the registry presents a decision (recognition/api/answers.py):
    issuer, merchant, credential and origin only from an authenticated
    token. The trust list carries no agreement's legal basis: null here."""
    authority, claims = subject.authority, decision.claims
    verified = decision.authenticated and authority is not None
    agreement = decision.agreement
    merchant = subject.merchant
    claimed = claims.get("merchant") if isinstance(claims.get("merchant"), dict) else {}
    return {
        "origin": authority.country if verified else None,
        "evaluated_at": iso(evaluated_at),
        "issuer": (
            {"issuer": authority.issuer, "name": authority.name, "country": authority.country} if verified else None
        ),
        "merchant": (
            None
            if not verified
            else {
                "registration_number": merchant.registration_number,
                "legal_name": merchant.legal_name,
                "status": merchant.status,
            }
            if merchant
            else {
                "registration_number": str(claims.get("sub", ""))[:200],
                "legal_name": str(claimed.get("legal_name", ""))[:300],
                "status": None,
            }
        ),  # fmt: skip
        "credential": (
            {
                "jti": str(claims.get("jti", ""))[:200],
                "type": str(claims.get("credential_type", ""))[:100],
                "assurance": str(claims.get("assurance", ""))[:20],
                "issued_at": _numeric_date(claims.get("iat")),
                "expires_at": _numeric_date(claims.get("exp")),
            }
            if verified
            else None
        ),
        "agreement": (
            {
                "id": agreement.id,
                "legal_basis": None,
                "valid_from": iso(agreement.valid_from),
                "valid_until": iso(agreement.valid_until) if agreement.valid_until else None,
            }
            if agreement
            else None
        ),
    }


class _EveryType:
    """The registered credential types, as a verifier takes them: every type
    is (no list carries them; see the module's docstring)."""

    def __contains__(self, credential_type: object) -> bool:
        return True


EVERY_TYPE = _EveryType()


def _credential_status(value: int, merchant_status: str) -> str | None:
    """A status-list entry read beside the merchant's listed status (spec:
    an entry is INVALID when the credential or its merchant is revoked,
    SUSPENDED when either is suspended): what it says of the credential."""
    if value == INVALID:
        return None if merchant_status == "revoked" else "revoked"
    if value == SUSPENDED:
        return None if merchant_status == "suspended" else "suspended"
    return None


class Verifier:
    def __init__(
        self,
        registry_url: str,
        destination: str,
        *,
        cache_dir: str | Path | None = None,
        offline: bool = False,
        clock: Callable[[], datetime] | None = None,
        policy: Policy = DEFAULT_POLICY,
        timeout: float = 10.0,
        issuer: str | None = None,
        max_token_bytes: int = MAX_TOKEN_BYTES,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_status_list_bytes: int = MAX_BYTES,
        opener: Opener | None = None,
    ) -> None:
        """`registry_url`: where the lists are fetched (never used offline);
        `issuer`: the registry's issuer the lists must carry (`iss`), by
        default the one of the first trust list verified with the registry's
        JWKS; `opener`: anything with urllib's `open(request, timeout)`."""
        self.destination = country_code(destination)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.policy = policy
        self.max_token_bytes = max_token_bytes
        self.max_status_list_bytes = max_status_list_bytes
        fetcher = None
        if not offline:
            fetcher = Fetcher(registry_url, timeout=timeout, max_bytes=max_response_bytes, opener=opener)
        directory = Path(cache_dir) if cache_dir is not None else None
        self.lists = Lists(fetcher, directory=directory, offline=offline, issuer=issuer)
        self._trust_list = trust_list_document(self.destination)
        self._merchant_status: dict[str, Document] = {}  # by country

    def verify(self, token: str, origin: str | None = None) -> Answer:
        """The decision about `token` presented in this verifier's destination
        (with the origin the merchant declared, if any), at the clock's now."""
        if origin is not None:
            country_code(origin)
        now = self.clock()
        parsed = parse_token(token, max_bytes=self.max_token_bytes)
        try:
            reference = None
            if isinstance(parsed, ParsedToken):
                subject, reference = self._subject(parsed, origin, now.timestamp())
            else:
                subject = Subject(destination=self.destination, declared_origin=origin)
            decision = decide(parsed=parsed, subject=subject, now=now, policy=self.policy)
            if reference is not None and decision.verified:
                decision = self._with_status_list(parsed, reference, subject, decision, now)
        except ListError as error:
            decision = Decision(reasons=((Reason(error.code), error.detail),))
            subject = Subject(destination=self.destination, declared_origin=origin)
        return Answer(decision, subject, now)

    def _subject(
        self, parsed: ParsedToken, origin: str | None, now: float
    ) -> tuple[Subject, tuple[int, str, Any] | None]:
        """The subject of the decision from the lists, and the token's
        reference to a status list of this registry (read once the trust
        list, which names the registry's issuer, is held)."""
        trust: TrustList = self.lists.get(self._trust_list, now)
        claims = parsed.claims
        issuer = claims.get("iss")
        listed = trust.authorities.get(issuer) if isinstance(issuer, str) else None
        if listed is None:
            return Subject(destination=self.destination, declared_origin=origin), None
        authority = listed.authority
        document = self._merchant_status.get(authority.country)
        if document is None:
            document = self._merchant_status[authority.country] = merchant_status_document(authority.country)
        statuses: MerchantStatus = self.lists.get(document, now)
        sub = claims.get("sub")
        merchant = None
        if isinstance(sub, str) and 0 < len(sub) <= 200:
            claimed = claims.get("merchant")
            legal_name = claimed.get("legal_name") if isinstance(claimed, dict) else None
            status = statuses.merchants.get((authority.issuer, sub), "active")
            merchant = MerchantSnapshot(sub, legal_name if isinstance(legal_name, str) else "", status)
        reference = self._status_reference(claims)
        credential_status = None
        if reference is None:
            jti = claims.get("jti")
            if isinstance(jti, str) and 0 < len(jti) <= 200:
                credential_status = statuses.credentials.get((authority.issuer, jti))
        subject = Subject(
            destination=self.destination,
            declared_origin=origin,
            authority=authority,
            key=listed.keys.get(parsed.kid),
            merchant=merchant,
            credential_status=credential_status,
            agreements=listed.agreements if authority.country != self.destination else (),
            known_types=EVERY_TYPE,
        )
        return subject, reference

    def _status_reference(self, claims: dict[str, Any]) -> tuple[int, str, Any] | None:
        """(list number, uri, idx) of a `status.status_list` claim naming a
        list of this registry; None otherwise."""
        status = claims.get("status")
        reference = status.get("status_list") if isinstance(status, dict) else None
        if not isinstance(reference, dict) or self.lists.issuer is None:
            return None
        uri = reference.get("uri")
        number = status_list_number(uri, self.lists.issuer)
        return None if number is None else (number, uri, reference.get("idx"))

    def _with_status_list(
        self,
        parsed: ParsedToken,
        reference: tuple[int, str, Any],
        subject: Subject,
        decision: Decision,
        now: datetime,
    ) -> Decision:
        """Read only once the signature verified: a forged token cannot make
        the verifier fetch a list."""
        number, uri, index = reference
        document = status_list_document(number, uri, self.max_status_list_bytes)
        value = status_of(self.lists.get(document, now.timestamp()), index, document.name)
        if value not in (VALID, INVALID, SUSPENDED):
            raise ListError("lists_unavailable", f"{document.name}: entry {index} has the value {value}, unused")
        merchant_status = subject.merchant.status if subject.merchant else "active"
        credential_status = _credential_status(value, merchant_status)
        if credential_status is None:
            return decision
        return decide(parsed=parsed, subject=replace(subject, credential_status=credential_status), now=now,
                      policy=self.policy)  # fmt: skip

    # Lists for offline use ----------------------------------------------------------------

    def prefetch(self) -> None:
        """Fetch now every list this verifier may need: the JWKS, the
        destination's trust list, the merchant-status list of every country
        in it, and the registry's status lists 1, 2, ... until it answers 404."""
        seconds = self.clock().timestamp()
        trust: TrustList = self.lists.get(self._trust_list, seconds)
        for country in sorted({listed.authority.country for listed in trust.authorities.values()}):
            self.lists.get(merchant_status_document(country), seconds)
        for number in range(1, MAX_STATUS_LISTS + 1):
            uri = f"{self.lists.issuer}/api/v1/status-lists/{number}/"
            try:
                self.lists.get(status_list_document(number, uri, self.max_status_list_bytes), seconds)
            except ListError as error:
                if error.http_status == 404:
                    break
                raise

    def save(self, directory: str | Path) -> list[str]:
        """Write the JWKS and every list held into `directory` for
        `Verifier(..., offline=True, cache_dir=directory)` (lists.py: the
        layout); the files written."""
        return self.lists.save(Path(directory))
