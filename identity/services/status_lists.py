"""The registry's Token Status Lists (draft-ietf-oauth-status-list-20): an
index for each credential it issues, and the bytes of a list now or at an
instant of history.

An index is drawn at random (`secrets`) among the free indices of the open
list, so that neighbouring indices say nothing about when or to whom they
were given; it is never given twice (a unique constraint) and never reused
(credentials are never deleted). The open list's row is locked while an
index is drawn, so two issuings at once never draw the same one; a full list
is closed and the next one opened.

The value of an entry (spec: a credential's and its merchant's status
combined): INVALID when the credential or its merchant is revoked; else
SUSPENDED when either is suspended; else VALID. Unallocated indices are 0.
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from identity.models import CredentialStatus, IssuedCredential, Merchant, MerchantStatus, StatusList
from merchant_verifier.status_list import INVALID, SUSPENDED, VALID, new_list, set_status

# Random candidates tried in one query before the free indices are listed
# exactly; at 95 % full all 64 are taken once in 27 draws.
CANDIDATES = 64


def entry_value(credential_status: str, merchant_status: str) -> int:
    """The 2-bit value of a credential (spec.md: the merchant's status covers
    all its credentials; revoked wins over suspended)."""
    if CredentialStatus.REVOKED in (credential_status, merchant_status):
        return INVALID
    if CredentialStatus.SUSPENDED in (credential_status, merchant_status):
        return SUSPENDED
    return VALID


def status_list_uri(status_list: StatusList) -> str:
    """The list's URI, exactly as the credentials and the list's `sub` carry it."""
    return f"{settings.REGISTRY['ISSUER'].rstrip('/')}/api/v1/status-lists/{status_list.number}/"


def _open_list() -> StatusList:
    """The open list, locked until the end of the transaction; opened when
    there is none. Two first openings at once: the loser's insert breaks the
    one-open-list constraint and it takes the winner's list."""
    for _attempt in range(3):
        found = StatusList.objects.select_for_update().filter(closed=False).first()
        if found is not None:
            return found
        last = StatusList.objects.order_by("-number").values_list("number", flat=True).first() or 0
        try:
            with transaction.atomic():
                StatusList.objects.create(number=last + 1, size=settings.STATUS_LIST_SIZE, created_at=timezone.now())
        except IntegrityError:
            continue
    raise RuntimeError("no status list could be opened")  # pragma: no cover - three lost races in a row


def _draw(status_list: StatusList) -> int | None:
    """A random free index of `status_list`, or None when it is full."""
    taken = IssuedCredential.objects.filter(status_list=status_list)
    candidates = list(dict.fromkeys(secrets.randbelow(status_list.size) for _ in range(CANDIDATES)))
    used = set(taken.filter(status_index__in=candidates).values_list("status_index", flat=True))
    free = [index for index in candidates if index not in used]
    if free:
        return free[0]
    used = set(taken.values_list("status_index", flat=True))
    if len(used) >= status_list.size:
        return None
    # Nearly full: the r-th free index for a random r.
    wanted = secrets.randbelow(status_list.size - len(used))
    for index in range(status_list.size):
        if index not in used:
            if wanted == 0:
                return index
            wanted -= 1
    return None  # pragma: no cover - counted above


def status_index_allocate() -> tuple[StatusList, int]:
    """A list and a free index in it, for a credential being issued. Call it
    inside the issuing transaction: the open list stays locked until the
    credential holding the index is saved (or the transaction rolls back,
    leaving the index free)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("status_index_allocate must run inside the issuing transaction")
    while True:
        status_list = _open_list()
        index = _draw(status_list)
        if index is not None:
            return status_list, index
        status_list.closed = True
        status_list.save(update_fields=["closed"])


# The bytes -----------------------------------------------------------------

# Each half reads only what is not valid, through a partial index: the
# credentials of the list not valid (issuedcred_list_not_valid), and the
# valid ones of merchants not active (merchant_not_active first: CROSS JOIN
# keeps SQLite from walking the whole list instead). The conditions are
# written as the indexes' own, `NOT (status = ...)`, for SQLite to match them.
_NOT_VALID_SQL = """
SELECT c.status_index, c.status, m.status
  FROM identity_issuedcredential c JOIN identity_merchant m ON m.id = c.merchant_id
 WHERE c.status_list_id = %s AND NOT (c.status = 'valid')
UNION ALL
SELECT c.status_index, c.status, m.status
  FROM identity_merchant m CROSS JOIN identity_issuedcredential c
 WHERE NOT (m.status = 'active') AND c.merchant_id = m.id AND c.status_list_id = %s AND c.status = 'valid'
"""


def status_list_bytes(status_list: StatusList) -> bytearray:
    """The packed entries of `status_list` now: one query for its entries
    that are not valid (the credential's or its merchant's status), each set."""
    packed = new_list(status_list.size)
    with connection.cursor() as cursor:
        cursor.execute(_NOT_VALID_SQL, [status_list.pk, status_list.pk])
        for index, credential_status, merchant_status in cursor.fetchall():
            set_status(packed, index, entry_value(credential_status, merchant_status))
    return packed


def _latest(rows: list[tuple[int, str]]) -> dict[int, str]:
    """The last status of each object id, from rows in history order."""
    return dict(rows)


def status_list_bytes_at(status_list: StatusList, at: datetime) -> bytearray:
    """The packed entries of `status_list` as they were at `at`, from
    history: each credential's status then and its merchant's status then;
    an index given after `at` is 0. Only the credentials that were ever not
    valid, or whose merchant ever was not active, by then are read."""
    history = IssuedCredential.history.filter(status_list=status_list, history_date__lte=at)
    merchants_then = Merchant.history.filter(history_date__lte=at).exclude(status=MerchantStatus.ACTIVE)
    touched = set(history.exclude(status=CredentialStatus.VALID).values_list("id", flat=True))
    touched |= set(history.filter(merchant_id__in=merchants_then.values("id")).values_list("id", flat=True))
    packed = new_list(status_list.size)
    if not touched:
        return packed
    order = ("history_date", "history_id")
    credentials = _latest(
        list(
            IssuedCredential.history.filter(id__in=touched, history_date__lte=at)
            .order_by(*order)
            .values_list("id", "status")
        )
    )
    facts = dict(
        IssuedCredential.history.filter(id__in=touched, history_date__lte=at)
        .order_by(*order)
        .values_list("id", "history_type")
    )
    places = dict(IssuedCredential.objects.filter(id__in=touched).values_list("id", "status_index"))
    owners = dict(IssuedCredential.objects.filter(id__in=touched).values_list("id", "merchant_id"))
    merchant_status = _latest(
        list(
            Merchant.history.filter(id__in=set(owners.values()), history_date__lte=at)
            .order_by(*order)
            .values_list("id", "status")
        )
    )
    for credential_id, credential_status in credentials.items():
        if facts[credential_id] == "-" or places.get(credential_id) is None:
            continue
        value = entry_value(credential_status, merchant_status.get(owners[credential_id], MerchantStatus.ACTIVE))
        set_status(packed, places[credential_id], value)
    return packed
