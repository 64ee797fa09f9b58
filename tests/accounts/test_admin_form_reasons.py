"""The forms that change trust (agreement terms, keys, authority details)
ask for a reason, kept in history; their read-only views do not offer it."""

import json

from identity.models import AuthorityKey
from tests.support.admin import (
    add_url,
    change_url,
    client_for,
    form_errors,
    history_version_url,
    is_read_only_page,
    new_public_jwk,
    terms_post,
)


def latest_reason(obj) -> str:
    return obj.history.filter(id=obj.pk).order_by("history_date", "history_id").last().history_change_reason


def test_changing_agreement_terms_needs_a_reason_kept_in_history(world):
    agreement = world.cn_recognizes_cl
    root = client_for(world.root)

    refused = root.post(change_url(agreement), {**terms_post(agreement, notes="reviewed"), "reason": ""})
    assert "reason: This field is required." in form_errors(refused)
    agreement.refresh_from_db()
    assert agreement.notes == ""

    accepted = root.post(change_url(agreement), terms_post(agreement, notes="reviewed", reason="annual review"))
    assert accepted.status_code == 302
    agreement.refresh_from_db()
    assert agreement.notes == "reviewed"
    assert latest_reason(agreement) == "terms changed: annual review"


def test_registering_a_key_needs_a_reason_kept_in_history(world):
    root = client_for(world.root)
    post = {"authority": world.cn.authority.pk, "jwk": json.dumps(new_public_jwk()), "kid": "cn-reasoned"}

    assert "reason: This field is required." in form_errors(root.post(add_url(AuthorityKey), post))
    assert not AuthorityKey.objects.filter(kid="cn-reasoned").exists()

    assert root.post(add_url(AuthorityKey), {**post, "reason": "yearly rotation"}).status_code == 302
    assert latest_reason(AuthorityKey.objects.get(kid="cn-reasoned")) == "registered: yearly rotation"


def test_the_reason_field_is_offered_only_where_the_user_may_submit(world):
    alice = client_for(world.alice)
    assert 'name="reason"' in alice.get(change_url(world.cn_recognizes_cl)).content.decode()
    assert 'name="reason"' in alice.get(change_url(world.cn.authority)).content.decode()
    assert 'name="reason"' in alice.get(add_url(AuthorityKey)).content.decode()
    # Read-only views: a foreign authority, a regulator's view, an old version.
    foreign = alice.get(change_url(world.cl.authority))
    assert is_read_only_page(foreign) and "Reason for this change" not in foreign.content.decode()
    regulator = client_for(world.rita).get(change_url(world.cn_recognizes_cl))
    assert is_read_only_page(regulator) and "Reason for this change" not in regulator.content.decode()
    version = alice.get(history_version_url(world.cn_recognizes_cl))
    assert version.status_code == 200 and "Reason for this change" not in version.content.decode()
