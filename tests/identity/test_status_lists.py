"""The registry's status lists (spec: draft-ietf-oauth-status-list-20): a
random index for each credential issued, never shared, a full list closed
and the next opened, and the value of each entry (the credential's status
and its merchant's combined), now and from history."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from identity.models import IssuedCredential, StatusList
from identity.services.credentials import (
    credential_issue,
    credential_reinstate,
    credential_revoke,
    credential_suspend,
)
from identity.services.merchants import merchant_register, merchant_reinstate, merchant_revoke, merchant_suspend
from identity.services.status_lists import status_list_bytes, status_list_bytes_at
from merchant_verifier.status_list import INVALID, SUSPENDED, VALID, get_status


def issue(world, merchant=None):  # noqa: ANN001, ANN201
    actor = world.cl
    return credential_issue(
        merchant=merchant or actor.merchant, private_key=actor.private_key, credential_type=world.merchant_identity
    ).credential


def value(credential: IssuedCredential) -> int:
    credential.refresh_from_db()
    return get_status(status_list_bytes(credential.status_list), credential.status_index)


def version(status_list: StatusList) -> int:
    return StatusList.objects.get(pk=status_list.pk).version


@pytest.fixture
def small_lists(settings):
    settings.STATUS_LIST_SIZE = 1024


def test_each_credential_state_has_its_value(world, small_lists):
    credential, other = issue(world), issue(world)
    assert value(credential) == VALID
    credential_suspend(credential=credential, reason="under review")
    assert value(credential) == SUSPENDED
    credential_reinstate(credential=credential, reason="review closed")
    assert value(credential) == VALID
    credential_revoke(credential=credential)
    assert value(credential) == INVALID
    assert value(other) == VALID


def test_a_merchants_status_covers_all_its_credentials(world, small_lists):
    first, second = issue(world), issue(world)
    bystander = issue(
        world, merchant_register(authority=world.cl.authority, registration_number="CL-2", legal_name="B")
    )
    merchant_suspend(merchant=world.cl.merchant)
    assert (value(first), value(second), value(bystander)) == (SUSPENDED, SUSPENDED, VALID)
    merchant_reinstate(merchant=world.cl.merchant)
    assert (value(first), value(second)) == (VALID, VALID)
    credential_suspend(credential=second)
    merchant_revoke(merchant=world.cl.merchant)
    assert (value(first), value(second), value(bystander)) == (INVALID, INVALID, VALID)


def test_revoked_is_final_and_suspension_needs_a_valid_credential(world, small_lists):
    credential = issue(world)
    with pytest.raises(ValidationError, match="is already valid"):
        credential_reinstate(credential=credential)
    credential_revoke(credential=credential)
    with pytest.raises(ValidationError, match="cannot go from revoked to suspended"):
        credential_suspend(credential=credential)
    with pytest.raises(ValidationError, match="cannot go from revoked to valid"):
        credential_reinstate(credential=credential)


def test_suspension_and_reinstatement_are_kept_in_history_with_their_reason(world, small_lists):
    credential = issue(world)
    credential_suspend(credential=credential, reason="under review", user=world.bob)
    credential_reinstate(credential=credential, reason="cleared", user=world.bob)
    reasons = list(credential.history.order_by("history_id").values_list("status", "history_change_reason"))
    assert reasons == [
        ("valid", "issued"),
        ("suspended", "status suspended: under review"),
        ("valid", "status valid: cleared"),
    ]


def test_indices_are_drawn_at_random_and_never_shared(world, small_lists):
    indices = [issue(world).status_index for _ in range(50)]
    assert len(set(indices)) == 50
    assert indices != sorted(indices)
    assert all(0 <= index < 1024 for index in indices)
    assert StatusList.objects.count() == 1


def test_a_full_list_is_closed_and_the_next_one_opened(world, settings):
    settings.STATUS_LIST_SIZE = 4
    credentials = [issue(world) for _ in range(6)]
    first, second = StatusList.objects.order_by("number")
    assert (first.number, first.closed, second.number, second.closed) == (1, True, 2, False)
    assert sorted(c.status_index for c in credentials if c.status_list == first) == [0, 1, 2, 3]
    assert len({c.status_index for c in credentials if c.status_list == second}) == 2


def test_the_version_changes_with_the_bytes_whatever_writes_them(world, small_lists):
    credential = issue(world)
    status_list = credential.status_list
    start = version(status_list)
    issue(world)  # a valid credential of an active merchant: 0, like a free index
    assert version(status_list) == start
    credential_suspend(credential=credential)
    assert version(status_list) == start + 1
    # Raw SQL, bypassing every service, bumps it too.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE identity_issuedcredential SET status = 'valid' WHERE id = %s", [credential.pk])
    assert version(status_list) == start + 2
    with connection.cursor() as cursor:
        cursor.execute("UPDATE identity_merchant SET status = 'suspended' WHERE id = %s", [world.cl.merchant.pk])
    assert version(status_list) == start + 3
    with connection.cursor() as cursor:
        cursor.execute("UPDATE identity_merchant SET legal_name = 'Renamed' WHERE id = %s", [world.cl.merchant.pk])
    assert version(status_list) == start + 3


def test_the_list_at_an_instant_comes_from_history(world, small_lists):
    credential = issue(world)
    later = issue(world)
    before = timezone.now()
    credential_revoke(credential=credential)
    merchant_suspend(merchant=world.cl.merchant)
    after = timezone.now()
    status_list = credential.status_list
    then = status_list_bytes_at(status_list, before)
    assert (get_status(then, credential.status_index), get_status(then, later.status_index)) == (VALID, VALID)
    now = status_list_bytes_at(status_list, after)
    assert (get_status(now, credential.status_index), get_status(now, later.status_index)) == (INVALID, SUSPENDED)
    assert now == status_list_bytes(status_list)


def test_an_index_given_after_the_instant_is_zero_then(world, small_lists):
    issue(world)
    merchant_suspend(merchant=world.cl.merchant)
    merchant_reinstate(merchant=world.cl.merchant)
    between = timezone.now()
    late = issue(world)
    merchant_suspend(merchant=world.cl.merchant)
    assert get_status(status_list_bytes_at(late.status_list, between), late.status_index) == VALID
    assert (
        get_status(status_list_bytes_at(late.status_list, between + timedelta(hours=1)), late.status_index) == SUSPENDED
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issuings_never_share_an_index(postgres_only, settings):
    from tests.support.actors import build_world

    world = build_world()
    settings.STATUS_LIST_SIZE = 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                issue(world)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    places = list(IssuedCredential.objects.values_list("status_list__number", "status_index"))
    assert len(places) == 18 == len(set(places))
    assert StatusList.objects.filter(closed=False).count() == 1
    assert sorted(StatusList.objects.values_list("number", flat=True)) == [1, 2, 3]
