"""The admin of recognition agreements and country roles (DESIGN §7): a
country administrator manages only the agreements whose destination is their
country, through the agreement services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CountryRole
from accounts.proposals import approve
from identity.models import Authority
from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_create, agreement_update_terms
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
    post_action,
    split_datetime,
    terms_post,
)

Agreement = RecognitionAgreement


@pytest.fixture
def alice(world):
    return client_for(world.alice)


@pytest.fixture
def bob(world):
    return client_for(world.bob)


@pytest.fixture
def rita(world):
    return client_for(world.rita)


@pytest.fixture
def root(world):
    return client_for(world.root)


def agreement_post(world, *, destination: str, authority: Authority, **extra: str) -> dict:
    return {
        "destination": destination,
        "authority": authority.pk,
        "credential_types": [world.merchant_identity.pk],
        "min_assurance": "substantial",
        **split_datetime("valid_from", timezone.now() - timedelta(days=1)),
        "valid_until_0": "",
        "valid_until_1": "",
        "legal_basis": "CN-KZ e-commerce memorandum",
        "reference_url": "",
        "notes": "",
        **extra,
    }


def kz_draft(world, *, destination: str = "CN", legal_basis: str = "memorandum") -> RecognitionAgreement:
    return agreement_create(
        destination=destination,
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        legal_basis=legal_basis,
    )


# Creating ------------------------------------------------------------------------------


def test_cn_admin_creates_draft_agreement_recognizing_kazakh_authority(world, alice):
    response = alice.post(add_url(Agreement), agreement_post(world, destination="CN", authority=world.kz.authority))
    assert response.status_code == 302
    agreement = Agreement.objects.get(authority=world.kz.authority)
    assert (agreement.destination, agreement.origin, agreement.status) == ("CN", "KZ", "draft")
    assert list(agreement.credential_types.all()) == [world.merchant_identity]
    assert latest_history_user(agreement) == world.alice


def test_cn_admin_cannot_create_agreement_with_chilean_destination(world, alice):
    response = alice.post(add_url(Agreement), agreement_post(world, destination="CL", authority=world.kz.authority))
    assert "destination: Select a valid choice" in form_errors(response)
    assert not Agreement.objects.filter(authority=world.kz.authority).exists()


def test_cn_admin_cannot_create_domestic_agreement(world, alice):
    response = alice.post(add_url(Agreement), agreement_post(world, destination="CN", authority=world.cn.authority))
    assert "authority: Select a valid choice" in form_errors(response)
    assert not Agreement.objects.filter(authority=world.cn.authority).exists()


def test_agreement_refused_by_service_is_a_form_error(world, root):
    post = agreement_post(world, destination="KZ", authority=world.kz.authority)
    assert "domestic trust needs no agreement" in form_errors(root.post(add_url(Agreement), post))
    assert not Agreement.objects.filter(authority=world.kz.authority).exists()


def test_an_agreement_duplicating_an_existing_one_is_a_form_error_naming_it(world, alice):
    post = agreement_post(world, destination="CN", authority=world.kz.authority)
    assert alice.post(add_url(Agreement), post).status_code == 302
    first = Agreement.objects.get(authority=world.kz.authority)
    errors = form_errors(alice.post(add_url(Agreement), post))
    assert f"agreement {first.pk} (draft) already has these terms" in errors
    assert Agreement.objects.filter(authority=world.kz.authority).count() == 1


def test_superuser_creates_agreement_for_any_destination(world, root):
    post = agreement_post(world, destination="CL", authority=world.kz.authority)
    assert root.post(add_url(Agreement), post).status_code == 302
    assert Agreement.objects.get(authority=world.kz.authority).destination == "CL"


# Status changes ----------------------------------------------------------------------------


def test_cn_admin_activates_suspends_and_terminates_agreement(world, alice):
    agreement = kz_draft(world)
    # Activating widens trust: alice proposes it, a second CN administrator approves.
    confirm_action(alice, Agreement, "activate", [agreement])
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    assert approve_in_admin(client_for(world.alice2)).status == "approved"
    agreement.refresh_from_db()
    assert agreement.status == "active"
    assert latest_history_user(agreement) == world.alice2
    for action, status in [("suspend", "suspended"), ("terminate", "terminated")]:
        confirm_action(alice, Agreement, action, [agreement])
        agreement.refresh_from_db()
        assert agreement.status == status
        assert latest_history_user(agreement) == world.alice


def test_activation_without_legal_basis_is_reported_as_an_error(world, alice):
    agreement = kz_draft(world, legal_basis="")
    response = confirm_action(alice, Agreement, "activate", [agreement])
    assert any("without a legal basis" in message for message in messages_of(response))
    agreement.refresh_from_db()
    assert agreement.status == "draft"


def test_cn_admin_proposes_the_reciprocal_as_a_draft_for_kazakhstan(world, alice):
    agreement = kz_draft(world)
    response = confirm_action(alice, Agreement, "propose_reciprocal", [agreement])
    assert any("Drafts for KZ to review" in message for message in messages_of(response))
    draft = Agreement.objects.get(destination="KZ", authority=world.cn.authority)
    assert draft.status == "draft" and latest_history_user(draft) == world.alice
    # The other country's administrators review it, not alice.
    assert alice.get(change_url(draft)).status_code == 302
    confirm_action(alice, Agreement, "activate", [draft])
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_cn_admin_cannot_act_on_agreement_with_chilean_destination(world, alice):
    agreement = kz_draft(world, destination="CL")
    for action in ["activate", "terminate", "propose_reciprocal"]:
        confirm_action(alice, Agreement, action, [agreement])
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    assert not Agreement.objects.filter(destination="KZ").exists()


def test_cn_admin_cannot_change_or_act_on_an_agreement_whose_destination_is_chile(world, alice):
    agreement = agreement_create(
        destination="CL",
        authority=world.kz.authority,
        credential_types=[world.merchant_identity],
        min_assurance="substantial",
        legal_basis="CL-KZ memorandum",
        activate=True,
    )
    versions_before = agreement.history.count()

    response = alice.post(
        change_url(agreement),
        terms_post(agreement, legal_basis="Rewritten by CN", min_assurance="low", notes="CN was here"),
    )
    assert response.status_code in (302, 403, 404)
    for action in ["suspend", "terminate", "activate", "propose_reciprocal"]:
        confirm_action(alice, Agreement, action, [agreement])
    assert alice.post(delete_url(agreement), {"post": "yes"}).status_code in (302, 403, 404)

    agreement.refresh_from_db()
    assert (agreement.status, agreement.legal_basis, agreement.min_assurance, agreement.notes) == (
        "active",
        "CL-KZ memorandum",
        "substantial",
        "",
    )
    assert agreement.history.count() == versions_before
    assert not Agreement.objects.filter(destination="KZ").exists()


# Editing terms ------------------------------------------------------------------------------


def test_cn_admin_edits_terms_through_the_service(world, alice):
    agreement = world.cn_recognizes_cl
    post = terms_post(agreement, legal_basis="Amended memorandum (2026)", min_assurance="high", status="terminated")
    assert alice.post(change_url(agreement), post).status_code == 302
    agreement.refresh_from_db()
    assert (agreement.legal_basis, agreement.min_assurance) == ("Amended memorandum (2026)", "high")
    # Status moves by actions only; a posted status is ignored.
    assert agreement.status == "active"
    assert latest_history_user(agreement) == world.alice
    # Adding a type widens trust: alice proposes it, alice2 approves (four-eyes).
    proposal = agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity, world.export_licence],
        user=world.alice,
        reason="export licences too",
    )
    approve(proposal=proposal, user=world.alice2)
    agreement.refresh_from_db()
    assert agreement.credential_types.count() == 2
    assert latest_history_user(agreement) == world.alice2


def test_terms_refused_by_service_are_a_form_error(world, alice):
    agreement = world.cn_recognizes_cl
    response = alice.post(change_url(agreement), terms_post(agreement, legal_basis=""))
    assert "without a legal basis" in form_errors(response)
    agreement.refresh_from_db()
    assert agreement.legal_basis.startswith("CN-CL")


def test_terminated_agreement_is_read_only(world, alice):
    agreement = kz_draft(world)
    confirm_action(alice, Agreement, "terminate", [agreement])
    assert is_read_only_page(alice.get(change_url(agreement)))
    assert alice.post(change_url(agreement), terms_post(agreement, notes="revived")).status_code == 403


def test_cl_admin_cannot_change_agreement_of_china_recognizing_chile(world, bob):
    agreement = world.cn_recognizes_cl
    # Agreements are public (DESIGN §10): Chile's administrator reads it, read-only, told whose it is.
    page = bob.get(change_url(agreement))
    assert is_read_only_page(page) and "belongs to China (CN)&#x27;s administrators" in page.content.decode()
    bob.post(change_url(agreement), terms_post(agreement, legal_basis="Rewritten by CL"))
    confirm_action(bob, Agreement, "terminate", [agreement])
    assert bob.post(delete_url(agreement), {"post": "yes"}).status_code in (302, 403)
    agreement.refresh_from_db()
    assert agreement.status == "active" and agreement.legal_basis.startswith("CN-CL")
    assert list(bob.get(changelist_url(Agreement)).context["cl"].result_list) == []


# History -------------------------------------------------------------------------------------


def test_agreement_history_shows_who_changed_it_and_cannot_revert(world, alice):
    agreement = kz_draft(world)
    confirm_action(alice, Agreement, "activate", [agreement])
    response = alice.get(history_url(agreement))
    assert response.status_code == 200 and "alice" in response.content.decode()
    version = history_version_url(agreement)
    assert alice.get(version).status_code == 200
    assert alice.post(version, terms_post(agreement, notes="reverted")).status_code == 403
    agreement.refresh_from_db()
    assert agreement.notes == ""


def test_cl_admin_cannot_open_history_of_chinese_agreement(world, bob):
    assert bob.get(history_url(world.cn_recognizes_cl)).status_code == 404
    assert bob.get(history_version_url(world.cn_recognizes_cl)).status_code == 404


# The list ------------------------------------------------------------------------------------


def test_agreement_list_shows_reciprocity(world, alice):
    agreement_create(
        destination="CL",
        authority=world.cn.authority,
        credential_types=[world.merchant_identity],
        legal_basis="CN-CL memorandum",
        activate=True,
    )
    kz = kz_draft(world)
    rows = {row.pk: row for row in alice.get(changelist_url(Agreement)).context["cl"].result_list}
    assert rows[world.cn_recognizes_cl.pk].has_reciprocal is True
    assert rows[kz.pk].has_reciprocal is False


def test_agreement_list_filters_by_status_and_destination(world, root):
    kz_draft(world)
    response = root.get(changelist_url(Agreement), {"status__exact": "draft", "destination__exact": "CN"})
    assert [row.authority for row in response.context["cl"].result_list] == [world.kz.authority]


# Roles ---------------------------------------------------------------------------------------


def test_regulator_views_agreements_and_changes_nothing(world, rita):
    agreement = world.cn_recognizes_cl
    assert rita.get(changelist_url(Agreement)).status_code == 200
    assert is_read_only_page(rita.get(change_url(agreement)))
    assert rita.get(history_url(agreement)).status_code == 200
    post = agreement_post(world, destination="CN", authority=world.kz.authority)
    assert rita.post(add_url(Agreement), post).status_code == 403
    assert rita.post(change_url(agreement), terms_post(agreement, legal_basis="X")).status_code == 403
    assert rita.post(delete_url(agreement), {"post": "yes"}).status_code == 403
    for action in ["suspend", "terminate", "propose_reciprocal"]:
        confirm_action(rita, Agreement, action, [agreement])
    agreement.refresh_from_db()
    assert (agreement.status, agreement.legal_basis[:5]) == ("active", "CN-CL")
    assert Agreement.objects.count() == 1


def test_nobody_deletes_an_agreement(world, root):
    agreement = world.cn_recognizes_cl
    assert root.post(delete_url(agreement), {"post": "yes"}).status_code == 403
    post_action(root, Agreement, "delete_selected", [agreement], post="yes")
    assert Agreement.objects.filter(pk=agreement.pk).exists()


def test_country_roles_are_the_superusers_business(world, alice, rita, root):
    role = CountryRole.objects.get(user=world.alice)
    for client in (alice, rita):
        assert client.get(changelist_url(CountryRole)).status_code == 403
        assert (
            client.post(
                change_url(role), {"user": world.alice.pk, "role": "country_admin", "country": "CL"}
            ).status_code
            == 403
        )
    role.refresh_from_db()
    assert role.country == "CN"
    assert root.get(changelist_url(CountryRole)).status_code == 200


@pytest.mark.parametrize("username", ["alice", "bob", "rita", "root"])
def test_recognition_admin_pages_render(world, username):
    client = client_for(getattr(world, username))
    assert client.get("/admin/").status_code == 200
    assert client.get(changelist_url(Agreement)).status_code == 200
    if username != "bob":
        assert client.get(change_url(world.cn_recognizes_cl)).status_code == 200
        assert client.get(history_url(world.cn_recognizes_cl)).status_code == 200
    if username != "rita":
        assert client.get(add_url(Agreement)).status_code == 200
