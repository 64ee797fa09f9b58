"""The admin of authorities, keys, merchants, credential types and issued
credentials, scoped by country (DESIGN §7). Every refusal is proven with a
crafted request, and the database is checked afterwards."""

import json

import pytest
from django.contrib.auth import get_user_model

from identity.models import Authority, AuthorityKey, CredentialType, IssuedCredential, Merchant
from identity.services.authorities import authority_create
from identity.services.credentials import credential_issue
from identity.services.keys import key_mark_compromised
from identity.services.merchants import merchant_suspend
from tests.support.admin import (
    add_url,
    approve_in_admin,
    change_url,
    changelist_url,
    client_for,
    confirm_action,
    delete_url,
    form_errors,
    history_url,
    history_version_url,
    is_read_only_page,
    latest_history_user,
    messages_of,
    new_public_jwk,
    post_action,
)

MODELS = [Authority, AuthorityKey, Merchant, CredentialType, IssuedCredential]


def issue(actor, world) -> IssuedCredential:
    return credential_issue(
        merchant=actor.merchant, private_key=actor.private_key, credential_type=world.merchant_identity
    ).credential


@pytest.fixture
def alice(world):
    return client_for(world.alice)


@pytest.fixture
def rita(world):
    return client_for(world.rita)


@pytest.fixture
def root(world):
    return client_for(world.root)


def merchant_post(authority: Authority, number: str) -> dict:
    return {
        "authority": authority.pk,
        "registration_number": number,
        "legal_name": "Posted Trading Co.",
        "lei": "",
        "assurance": "substantial",
    }


def key_post(authority: Authority, jwk: object, **extra: str) -> dict:
    return {"authority": authority.pk, "jwk": json.dumps(jwk), "reason": "new signing key", **extra}


# Authorities --------------------------------------------------------------------


def test_cn_admin_cannot_add_authority_in_chile(world, alice):
    data = {"country": "CL", "name": "Fake", "issuer": "https://fake-cl.test", "max_assurance": "high"}
    response = alice.post(add_url(Authority), data)
    assert "country: Select a valid choice" in form_errors(response)
    assert not Authority.objects.filter(issuer="https://fake-cl.test").exists()


def test_cn_admin_adds_authority_in_china(world, alice):
    data = {"country": "CN", "name": "Tax", "issuer": "https://tax-cn.test", "max_assurance": "substantial"}
    response = alice.post(add_url(Authority), data)
    assert response.status_code == 302
    authority = Authority.objects.get(issuer="https://tax-cn.test")
    assert authority.country == "CN"
    assert latest_history_user(authority) == world.alice


def test_save_as_new_on_a_chilean_authority_is_still_a_scoped_add(world, alice):
    data = {"_saveasnew": "1", "country": "CL", "name": "Copy", "issuer": "https://copy.test", "max_assurance": "high"}
    alice.post(change_url(world.cl.authority), data)
    assert not Authority.objects.filter(issuer="https://copy.test").exists()


def test_cn_admin_sees_chilean_authority_read_only_and_cannot_change_it(world, alice):
    cl = world.cl.authority
    assert is_read_only_page(alice.get(change_url(cl)))
    response = alice.post(change_url(cl), {"country": "CL", "name": "Hijacked", "issuer": cl.issuer})
    assert response.status_code == 403
    cl.refresh_from_db()
    assert cl.name != "Hijacked"


def test_cn_admin_cannot_suspend_chilean_authority(world, alice):
    response = confirm_action(alice, Authority, "suspend", [world.cl.authority])
    assert any("not yours" in message for message in messages_of(response))
    world.cl.authority.refresh_from_db()
    assert world.cl.authority.status == "active"


def test_cn_admin_suspends_and_reinstates_chinese_authority(world, alice):
    cn = world.cn.authority
    confirm_action(alice, Authority, "suspend", [cn])
    cn.refresh_from_db()
    assert cn.status == "suspended"
    # Reinstating widens trust: alice proposes it, a second CN administrator approves.
    confirm_action(alice, Authority, "reinstate", [cn])
    cn.refresh_from_db()
    assert cn.status == "suspended"
    assert approve_in_admin(client_for(world.alice2)).status == "approved"
    cn.refresh_from_db()
    assert cn.status == "active"
    assert latest_history_user(cn) == world.alice2


# Keys -----------------------------------------------------------------------------


# A country administrator's registration is a proposal (tests/identity/test_widening.py):
# the superuser registers directly.
def test_superuser_registers_key_by_pasting_a_jwk(world, root):
    jwk = new_public_jwk()
    response = root.post(add_url(AuthorityKey), key_post(world.cn.authority, jwk, kid="cn-2026"))
    assert response.status_code == 302
    key = AuthorityKey.objects.get(authority=world.cn.authority, kid="cn-2026")
    assert key.public_jwk["x"] == jwk["x"] and key.alg == "EdDSA"
    assert latest_history_user(key) == world.root


def test_superuser_registers_keys_by_pasting_a_jwks(world, root):
    jwks = {"keys": [new_public_jwk(), new_public_jwk()]}
    response = root.post(add_url(AuthorityKey), key_post(world.cn.authority, jwks))
    assert response.status_code == 302
    assert world.cn.authority.keys.count() == 3
    assert {latest_history_user(key) for key in world.cn.authority.keys.exclude(pk=world.cn.key.pk)} == {world.root}


def test_pasted_jwk_with_private_member_is_a_form_error(world, alice):
    jwk = {**new_public_jwk(), "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
    errors = form_errors(alice.post(add_url(AuthorityKey), key_post(world.cn.authority, jwk)))
    assert "private members (d)" in errors
    assert world.cn.authority.keys.count() == 1


def test_pasted_malformed_json_is_a_form_error(world, alice):
    data = {"authority": world.cn.authority.pk, "jwk": '{"kty": "OKP",'}
    assert "not valid JSON" in form_errors(alice.post(add_url(AuthorityKey), data))
    assert world.cn.authority.keys.count() == 1


@pytest.mark.parametrize("crv", [["P-256"], {"name": "P-256"}])
def test_pasted_jwk_with_a_curve_that_is_not_a_string_is_a_form_error(world, alice, crv):
    jwk = {"kty": "EC", "crv": crv, "x": "AAAA", "y": "AAAA"}
    errors = form_errors(alice.post(add_url(AuthorityKey), key_post(world.cn.authority, jwk)))
    assert "JWK member 'crv' must be a string" in errors
    assert world.cn.authority.keys.count() == 1


def test_pasting_an_already_registered_key_is_a_form_error(world, alice):
    response = alice.post(add_url(AuthorityKey), key_post(world.cn.authority, world.cn.key.public_jwk))
    assert "already" in form_errors(response)
    assert world.cn.authority.keys.count() == 1


def test_cn_admin_cannot_add_key_under_chilean_authority(world, alice):
    response = alice.post(add_url(AuthorityKey), key_post(world.cl.authority, new_public_jwk()))
    assert "authority: Select a valid choice" in form_errors(response)
    assert world.cl.authority.keys.count() == 1


def test_cn_admin_views_chilean_key_read_only_and_cannot_change_it(world, alice):
    key = world.cl.key
    # Foreign keys are visible, read-only: the keys of the authorities China recognizes.
    assert is_read_only_page(alice.get(change_url(key)))
    response = alice.post(change_url(key), {"kid": "hijacked", "status": "retired"})
    assert response.status_code in (302, 403)
    key.refresh_from_db()
    assert (key.kid, key.status) != ("hijacked", "retired") and key.status == "active"


def test_key_is_read_only_after_creation_even_for_its_country(world, alice):
    key = world.cn.key
    assert is_read_only_page(alice.get(change_url(key)))
    assert alice.post(change_url(key), {"kid": "renamed", "alg": "ES256"}).status_code == 403
    key.refresh_from_db()
    assert key.kid != "renamed" and key.alg == "EdDSA"


def test_cn_admin_retires_a_key(world, alice):
    confirm_action(alice, AuthorityKey, "retire", [world.cn.key])
    world.cn.key.refresh_from_db()
    assert world.cn.key.status == "retired" and world.cn.key.retired_at is not None
    assert latest_history_user(world.cn.key) == world.alice


def test_cn_admin_marks_a_key_compromised(world, alice):
    confirm_action(alice, AuthorityKey, "mark_compromised", [world.cn.key])
    world.cn.key.refresh_from_db()
    assert world.cn.key.status == "compromised"
    assert latest_history_user(world.cn.key) == world.alice


def test_refused_key_transition_is_reported_as_an_error(world, alice):
    key_mark_compromised(key=world.cn.key)
    response = confirm_action(alice, AuthorityKey, "retire", [world.cn.key])
    assert any("cannot go from compromised to retired" in message for message in messages_of(response))
    world.cn.key.refresh_from_db()
    assert world.cn.key.status == "compromised"


def test_cn_admin_cannot_retire_chilean_key(world, alice):
    confirm_action(alice, AuthorityKey, "retire", [world.cl.key])
    world.cl.key.refresh_from_db()
    assert world.cl.key.status == "active"


# Merchants -------------------------------------------------------------------------


def test_cn_admin_adds_chinese_merchant(world, alice):
    response = alice.post(add_url(Merchant), merchant_post(world.cn.authority, "CN-0002"))
    assert response.status_code == 302
    merchant = Merchant.objects.get(authority=world.cn.authority, registration_number="CN-0002")
    assert latest_history_user(merchant) == world.alice


def test_cn_admin_cannot_add_merchant_under_chilean_authority(world, alice):
    response = alice.post(add_url(Merchant), merchant_post(world.cl.authority, "CL-0099"))
    assert "authority: Select a valid choice" in form_errors(response)
    assert not Merchant.objects.filter(registration_number="CL-0099").exists()


def test_service_refusal_on_add_is_a_form_error(world, alice):
    modest = authority_create(country="CN", name="Modest", issuer="https://modest.test", max_assurance="low")
    response = alice.post(add_url(Merchant), {**merchant_post(modest, "CN-0003"), "assurance": "high"})
    assert "above what https://modest.test is accredited for" in form_errors(response)
    assert not Merchant.objects.filter(registration_number="CN-0003").exists()


def test_cn_admin_changelist_hides_chilean_merchants(world, alice):
    response = alice.get(changelist_url(Merchant))
    assert list(response.context["cl"].result_list) == [world.cn.merchant]
    assert world.cl.merchant.legal_name not in response.content.decode()


def test_cn_admin_cannot_open_or_change_chilean_merchant(world, alice):
    merchant = world.cl.merchant
    assert alice.get(change_url(merchant)).status_code == 302
    alice.post(change_url(merchant), {**merchant_post(world.cl.authority, "CL-0001"), "legal_name": "Hijacked"})
    merchant.refresh_from_db()
    assert merchant.legal_name != "Hijacked"


def test_cn_admin_cannot_open_history_of_chilean_merchant(world, alice):
    assert alice.get(history_url(world.cl.merchant)).status_code == 404
    assert alice.get(history_version_url(world.cl.merchant)).status_code == 404


def test_cn_admin_suspends_and_reinstates_merchant(world, alice):
    merchant = world.cn.merchant
    confirm_action(alice, Merchant, "suspend", [merchant])
    merchant.refresh_from_db()
    assert merchant.status == "suspended"
    assert latest_history_user(merchant) == world.alice
    confirm_action(alice, Merchant, "reinstate", [merchant])
    merchant.refresh_from_db()
    assert merchant.status == "active"
    history = alice.get(history_url(merchant))
    assert history.status_code == 200 and "alice" in history.content.decode()


def test_cn_admin_cannot_suspend_chilean_merchant(world, alice):
    confirm_action(alice, Merchant, "suspend", [world.cl.merchant])
    world.cl.merchant.refresh_from_db()
    assert world.cl.merchant.status == "active"


def test_history_revert_is_refused(world, alice):
    merchant_suspend(merchant=world.cn.merchant)
    first = world.cn.merchant.history.order_by("history_date", "history_id").first()
    url = change_url(world.cn.merchant).replace("/change/", f"/history/{first.history_id}/")
    assert alice.get(url).status_code == 200
    response = alice.post(url, merchant_post(world.cn.authority, "CN-0001") | {"status": "active"})
    assert response.status_code == 403
    world.cn.merchant.refresh_from_db()
    assert world.cn.merchant.status == "suspended"


def test_history_version_is_shown_read_only(world, alice):
    response = alice.get(history_version_url(world.cn.merchant))
    assert is_read_only_page(response) and b'name="legal_name"' not in response.content
    bogus = change_url(world.cn.merchant).replace("/change/", "/history/not-a-version/")
    assert alice.get(bogus).status_code == 404


# Issued credentials ------------------------------------------------------------------


def test_cn_admin_revokes_chinese_credential_with_a_reason(world, alice):
    credential = issue(world.cn, world)
    confirm_action(alice, IssuedCredential, "revoke", [credential], reason="issued in error")
    credential.refresh_from_db()
    assert (credential.status, credential.reason) == ("revoked", "issued in error")
    assert latest_history_user(credential) == world.alice


def test_cn_admin_suspends_and_reinstates_chinese_credential(world, alice):
    credential = issue(world.cn, world)
    confirm_action(alice, IssuedCredential, "suspend", [credential], reason="under review")
    credential.refresh_from_db()
    assert credential.status == "suspended"
    assert latest_history_user(credential) == world.alice
    confirm_action(alice, IssuedCredential, "reinstate", [credential], reason="cleared")
    credential.refresh_from_db()
    assert credential.status == "valid"


def test_cn_admin_cannot_suspend_chilean_credential(world, alice):
    credential = issue(world.cl, world)
    confirm_action(alice, IssuedCredential, "suspend", [credential])
    credential.refresh_from_db()
    assert credential.status == "valid"


def test_cn_admin_cannot_see_or_revoke_chilean_credential(world, alice):
    credential = issue(world.cl, world)
    assert credential.jti not in alice.get(changelist_url(IssuedCredential)).content.decode()
    assert alice.get(change_url(credential)).status_code == 302
    confirm_action(alice, IssuedCredential, "revoke", [credential])
    credential.refresh_from_db()
    assert credential.status == "valid"


def test_cn_admin_cannot_change_or_delete_a_chilean_credential_by_crafted_posts(world, alice):
    credential = issue(world.cl, world)
    jti, versions_before = credential.jti, credential.history.count()
    post = {
        "jti": "forged",
        "merchant": world.cn.merchant.pk,
        "key": world.cn.key.pk,
        "credential_type": world.export_licence.pk,
        "assurance": "high",
        "status": "revoked",
        "reason": "changed by CN",
    }

    assert alice.post(change_url(credential), post).status_code in (302, 403, 404)
    assert alice.post(delete_url(credential), {"post": "yes"}).status_code in (302, 403, 404)
    response = post_action(alice, IssuedCredential, "delete_selected", [credential], post="yes")
    assert response.status_code == 200

    credential.refresh_from_db()
    assert (credential.jti, credential.merchant, credential.status, credential.reason) == (
        jti,
        world.cl.merchant,
        "valid",
        "",
    )
    assert credential.credential_type == world.merchant_identity
    assert credential.history.count() == versions_before
    assert IssuedCredential.objects.filter(pk=credential.pk).exists()


def test_credentials_are_not_issued_in_the_admin(world, root):
    assert root.get(add_url(IssuedCredential)).status_code == 403


# Deletion, roles --------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "rita", "root"])
def test_nobody_deletes_registry_rows(world, username):
    client = client_for(getattr(world, username))
    rows = [world.cn.authority, world.cn.key, world.cn.merchant, issue(world.cn, world), world.merchant_identity]
    for row in rows:
        assert client.post(delete_url(row), {"post": "yes"}).status_code == 403
        response = post_action(client, type(row), "delete_selected", [row], post="yes")
        assert response.status_code == 200
        assert type(row).objects.filter(pk=row.pk).exists()


def test_cn_admin_cannot_delete_chilean_rows(world, alice):
    for row in [world.cl.authority, world.cl.key, world.cl.merchant]:
        assert alice.post(delete_url(row), {"post": "yes"}).status_code in (302, 403)
        assert type(row).objects.filter(pk=row.pk).exists()


def test_regulator_views_every_changelist_and_change_page_read_only(world, rita):
    credential = issue(world.cl, world)
    for model in MODELS:
        assert rita.get(changelist_url(model)).status_code == 200
    for row in [world.cl.authority, world.cl.key, world.cl.merchant, credential, world.merchant_identity]:
        assert is_read_only_page(rita.get(change_url(row)))
    assert rita.get(history_url(world.cl.merchant)).status_code == 200


def test_regulator_adds_nothing(world, rita):
    assert rita.post(add_url(Merchant), merchant_post(world.cn.authority, "CN-0004")).status_code == 403
    assert rita.post(add_url(AuthorityKey), key_post(world.cn.authority, new_public_jwk())).status_code == 403
    data = {"country": "CN", "name": "X", "issuer": "https://x.test", "max_assurance": "high"}
    assert rita.post(add_url(Authority), data).status_code == 403
    assert rita.post(add_url(CredentialType), {"code": "x", "name": "X"}).status_code == 403
    assert not Merchant.objects.filter(registration_number="CN-0004").exists()
    assert world.cn.authority.keys.count() == 1
    assert not Authority.objects.filter(issuer="https://x.test").exists()


def test_regulator_changes_nothing(world, rita):
    merchant, key, authority, credential = world.cn.merchant, world.cn.key, world.cn.authority, issue(world.cn, world)
    response = rita.post(change_url(merchant), {**merchant_post(authority, "CN-0001"), "legal_name": "X"})
    assert response.status_code == 403
    assert rita.post(change_url(key), {"kid": "x", "status": "retired"}).status_code == 403
    assert rita.post(change_url(authority), {"name": "X", "status": "revoked"}).status_code == 403
    confirm_action(rita, Merchant, "suspend", [merchant])
    confirm_action(rita, AuthorityKey, "mark_compromised", [key])
    confirm_action(rita, Authority, "suspend", [authority])
    confirm_action(rita, IssuedCredential, "revoke", [credential])
    for row in [merchant, key, authority]:
        row.refresh_from_db()
        assert row.status == "active"
    credential.refresh_from_db()
    assert credential.status == "valid"
    assert merchant.legal_name != "X" and key.kid != "x" and authority.name != "X"


def test_staff_without_role_sees_nothing(world):
    charlie = get_user_model().objects.create_user("charlie", password="x-correct-horse-42", is_staff=True)
    client = client_for(charlie)
    assert client.get("/admin/").context["app_list"] == []
    for model in MODELS:
        assert client.get(changelist_url(model)).status_code == 403
    assert client.get(change_url(world.cn.merchant)).status_code in (302, 403)


def test_superuser_adds_authority_in_any_country(world, root):
    data = {"country": "KZ", "name": "Tax", "issuer": "https://tax-kz.test", "max_assurance": "high"}
    assert root.post(add_url(Authority), data).status_code == 302
    assert Authority.objects.get(issuer="https://tax-kz.test").country == "KZ"
    confirm_action(root, Merchant, "suspend", [world.cl.merchant])
    world.cl.merchant.refresh_from_db()
    assert world.cl.merchant.status == "suspended"


def test_only_superuser_adds_credential_types(world, root, alice):
    assert alice.get(changelist_url(CredentialType)).status_code == 200
    assert alice.post(add_url(CredentialType), {"code": "tax-id", "name": "Tax id"}).status_code == 403
    assert root.post(add_url(CredentialType), {"code": "tax-id", "name": "Tax id"}).status_code == 302
    assert CredentialType.objects.filter(code="tax-id").count() == 1


@pytest.mark.parametrize("username", ["alice", "rita", "root"])
def test_identity_admin_pages_render(world, username):
    client = client_for(getattr(world, username))
    credential = issue(world.cn, world)
    for model in MODELS:
        assert client.get(changelist_url(model)).status_code == 200
    for row in [world.cn.authority, world.cn.key, world.cn.merchant, credential, world.merchant_identity]:
        assert client.get(change_url(row)).status_code == 200
    for row in [world.cn.authority, world.cn.key, world.cn.merchant, credential]:
        assert client.get(history_url(row)).status_code == 200
        assert client.get(history_version_url(row)).status_code == 200
    if username != "rita":
        for model in [Authority, AuthorityKey, Merchant]:
            assert client.get(add_url(model)).status_code == 200
