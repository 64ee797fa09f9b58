"""The signed status documents a verifier at the platform's edge reads:
Token Status Lists (draft-ietf-oauth-status-list-20 §5.1) of the credentials
the registry issued, and each country's merchant-status list for the
credentials it did not issue. Both are signed with the registry's key
(registry_keys.signing_key; its JWKS at /.well-known/jwks.json).

Serving never rebuilds per request. A status list is built once per
`version` (which database triggers change in the same transaction as every
change to its bytes, identity migration 0004) and re-signed when half its
`ttl` has passed, so that a reader always gets a list whose `iat + ttl` is
at least half a ttl away: `ttl` is how long a reader may keep a list before
fetching it again, `exp` (iat + STATUS_LIST_LIFETIME_SECONDS) how long the
registry vouches for it at all. The version is read before the entries, so a
cached list is never older than the version it is kept under: a change is in
the very next list served, on every worker. A merchant-status list is small
by nature: it is rebuilt per request and re-signed only when its content
changed or half its ttl has passed (the same bytes keep their ETag).

`?time=` answers come from history. Their `iat` is the instant asked for
(the draft's historical resolution: the token is valid at the time asked),
so that an old list signed now cannot pass for the current one.
"""

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone

from identity.models import CredentialStatus, IssuedCredential, Merchant, MerchantStatus, StatusList
from identity.services.status_lists import status_list_bytes, status_list_bytes_at, status_list_uri
from merchant_verifier.status_list import encode_lst
from recognition.services.registry_keys import signing_key

STATUS_LIST_TYP = "statuslist+jwt"
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
MERCHANT_STATUS_TYP = "merchant-status+jwt"
MERCHANT_STATUS_MEDIA_TYPE = "application/jwt"
HISTORY_CACHE_SIZE = 64


class UnknownList(LookupError):
    """No such list (or none yet at the instant asked for)."""


@dataclass(frozen=True)
class Signed:
    token: bytes
    iat: int
    kid: str
    tag: Any  # what the content was built from: a version, or a digest

    def max_age(self, now: datetime) -> int:
        """Seconds a cache may keep it: what is left of its ttl (<= ttl)."""
        ttl = settings.STATUS_LIST_TTL_SECONDS
        return max(0, min(ttl, self.iat + ttl - int(now.timestamp())))


_current: dict[Any, Signed] = {}
_history: OrderedDict[Any, Signed] = OrderedDict()
_build_lock = threading.Lock()


def _sign(payload_of: Any, *, typ: str, iat: int, tag: Any) -> Signed:
    key = signing_key()
    payload = {
        "iss": settings.REGISTRY["ISSUER"].rstrip("/"),
        **payload_of,
        "iat": iat,
        "exp": iat + settings.STATUS_LIST_LIFETIME_SECONDS,
        "ttl": settings.STATUS_LIST_TTL_SECONDS,
    }
    token = jwt.encode(payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": typ})
    return Signed(token=token.encode("ascii"), iat=iat, kid=key.kid, tag=tag)


def _fresh(signed: Signed | None, *, tag: Any, now: datetime) -> bool:
    """Still servable: same content, same key, and less than half its ttl old."""
    return (
        signed is not None
        and signed.tag == tag
        and signed.kid == signing_key().kid
        and int(now.timestamp()) - signed.iat < settings.STATUS_LIST_TTL_SECONDS / 2
    )


def _remembered(key: Any, build: Any) -> Signed:
    """A historical answer, kept in a small LRU: history does not change, and
    the same bytes keep their ETag."""
    signed = _history.get(key)
    if signed is None or signed.kid != signing_key().kid:
        signed = build()
        _history[key] = signed
        while len(_history) > HISTORY_CACHE_SIZE:
            _history.popitem(last=False)
    else:
        _history.move_to_end(key)
    return signed


def _status_list_claim(packed: bytes, status_list: StatusList) -> dict[str, Any]:
    return {"sub": status_list_uri(status_list), "status_list": {"bits": 2, "lst": encode_lst(packed)}}


def status_list_token(number: int, *, at: datetime | None = None) -> Signed:
    """The signed list `number` now, or as it was at `at`."""
    now = timezone.now()
    status_list = StatusList.objects.filter(number=number).first()
    if status_list is None:
        raise UnknownList(f"there is no status list {number}")
    if at is not None:
        if at < status_list.created_at:
            raise UnknownList(f"status list {number} did not exist yet at that time")
        return _remembered(
            ("status-list", status_list.pk, at),
            lambda: _sign(
                _status_list_claim(status_list_bytes_at(status_list, at), status_list),
                typ=STATUS_LIST_TYP,
                iat=int(at.timestamp()),
                tag=at,
            ),
        )
    # The version was read with the row above, before the entries are.
    tag = (status_list.created_at, status_list.version)
    cached = _current.get(("status-list", status_list.pk))
    if _fresh(cached, tag=tag, now=now):
        return cached
    with _build_lock:
        cached = _current.get(("status-list", status_list.pk))
        if _fresh(cached, tag=tag, now=now):
            return cached
        signed = _sign(
            _status_list_claim(status_list_bytes(status_list), status_list),
            typ=STATUS_LIST_TYP,
            iat=int(now.timestamp()),
            tag=tag,
        )
        _current[("status-list", status_list.pk)] = signed
        return signed


# Merchant-status lists -------------------------------------------------------


def _last_of_each(rows: Any) -> dict[int, tuple]:
    """The last history row of each object, from rows ordered by time."""
    last: dict[int, tuple] = {}
    for row in rows:
        last[row[0]] = row
    return last


def merchant_status_content(country: str, at: datetime | None = None) -> dict[str, Any]:
    """`merchants`: every merchant of an authority of `country` that is not
    active; `credentials`: every registry-issued credential of those
    authorities that is not valid and has no status-list index (issued
    before status lists existed). At `at`, from history."""
    if at is None:
        merchants = [
            (issuer, number, status)
            for issuer, number, status in Merchant.objects.filter(authority__country=country)
            .exclude(status=MerchantStatus.ACTIVE)
            .values_list("authority__issuer", "registration_number", "status")
        ]
        credentials = list(
            IssuedCredential.objects.filter(merchant__authority__country=country, status_list__isnull=True)
            .exclude(status=CredentialStatus.VALID)
            .values_list("merchant__authority__issuer", "jti", "status")
        )
    else:
        merchants, credentials = _content_at(country, at)
    return {
        "merchants": [
            {"issuer": issuer, "registration_number": number, "status": status}
            for issuer, number, status in sorted(merchants)
        ],
        "credentials": [
            {"issuer": issuer, "jti": jti, "status": status} for issuer, jti, status in sorted(credentials)
        ],
    }


def _content_at(country: str, at: datetime) -> tuple[list[tuple], list[tuple]]:
    issuers = dict(Merchant.objects.filter(authority__country=country).values_list("authority_id", "authority__issuer"))
    merchants = [
        (issuers[authority_id], number, status)
        for authority_id, number, status in _not_usual_at(
            Merchant.history.filter(history_date__lte=at, authority_id__in=issuers),
            ("authority_id", "registration_number"),
            usual=MerchantStatus.ACTIVE,
        )
    ]
    owners = dict(Merchant.objects.filter(authority_id__in=issuers).values_list("id", "authority_id"))
    credentials = [
        (issuers[owners[merchant_id]], jti, status)
        for merchant_id, jti, status in _not_usual_at(
            IssuedCredential.history.filter(history_date__lte=at, status_list__isnull=True, merchant_id__in=owners),
            ("merchant_id", "jti"),
            usual=CredentialStatus.VALID,
        )
    ]
    return merchants, credentials


def _not_usual_at(history: Any, fields: tuple[str, str], *, usual: str) -> list[tuple]:
    """(*fields, status) of each object whose last record in `history` is
    not a deletion and has a status other than `usual`; only the objects
    that ever had another status are read."""
    touched = history.exclude(status=usual).values("id")
    rows = (
        history.filter(id__in=touched)
        .order_by("history_date", "history_id")
        .values_list("id", *fields, "status", "history_type")
    )
    return [
        (*values, status)
        for _id, *values, status, kind in _last_of_each(rows).values()
        if kind != "-" and status != usual
    ]


def _digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(hashlib.sha256(canonical.encode("utf-8")).digest()).decode("ascii")


def merchant_status_token(country: str, *, at: datetime | None = None) -> Signed:
    """The signed merchant-status list of `country` now, or as it was at `at`."""
    now = timezone.now()
    if at is not None:
        return _remembered(
            ("merchant-status", country, at),
            lambda: _sign(
                {"sub": country, **merchant_status_content(country, at)},
                typ=MERCHANT_STATUS_TYP,
                iat=int(at.timestamp()),
                tag=at,
            ),
        )
    content = merchant_status_content(country)
    digest = _digest(content)
    cached = _current.get(("merchant-status", country))
    if _fresh(cached, tag=digest, now=now):
        return cached
    signed = _sign({"sub": country, **content}, typ=MERCHANT_STATUS_TYP, iat=int(now.timestamp()), tag=digest)
    _current[("merchant-status", country)] = signed
    return signed
