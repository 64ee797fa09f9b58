"""Agreement services and the in_force queryset (DESIGN §3, §10)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.proposals import approve
from recognition.models import RecognitionAgreement
from recognition.services import agreements as svc
from recognition.snapshots import AgreementSnapshot


def make_draft(world, **terms):
    defaults = {
        "destination": "CN",
        "authority": world.kz.authority,
        "credential_types": [world.merchant_identity],
        "min_assurance": "substantial",
    }
    return svc.agreement_create(**{**defaults, **terms}, user=world.alice)


def versions(agreement):
    return list(RecognitionAgreement.history.filter(id=agreement.id).order_by("history_id"))


def test_draft_needs_no_legal_basis_but_activation_does(world):
    draft = make_draft(world)
    assert draft.status == "draft" and draft.origin == "KZ"
    with pytest.raises(ValidationError, match="without a legal basis"):
        svc.agreement_activate(agreement=draft, user=world.alice)
    assert RecognitionAgreement.objects.get(pk=draft.pk).status == "draft"
    with pytest.raises(ValidationError, match="without a legal basis"):
        make_draft(world, activate=True)


def test_domestic_agreement_is_refused(world):
    with pytest.raises(ValidationError, match="domestic trust needs no agreement"):
        make_draft(world, authority=world.cn.authority)


def test_agreement_needs_a_credential_type_and_an_ordered_window(world):
    with pytest.raises(ValidationError, match="at least one credential type"):
        make_draft(world, credential_types=[])
    now = timezone.now()
    with pytest.raises(ValidationError, match="valid_until must be after valid_from"):
        make_draft(world, valid_from=now, valid_until=now)


def test_lifecycle_keeps_every_version_with_its_user(world):
    agreement = make_draft(world, legal_basis="CN-KZ memorandum")
    # A country administrator's activation is a proposal a second one approves.
    approve(proposal=svc.agreement_activate(agreement=agreement, user=world.alice, reason="signed"), user=world.alice2)
    svc.agreement_suspend(agreement=agreement, user=world.alice)
    svc.agreement_activate(agreement=agreement, user=world.root)
    svc.agreement_terminate(agreement=agreement, user=world.alice)
    history = versions(agreement)
    assert [(v.status, v.history_user.username) for v in history] == [
        ("draft", "alice"),
        ("active", "alice2"),
        ("suspended", "alice"),
        ("active", "root"),
        ("terminated", "alice"),
    ]
    assert history[0].history_type == "+"
    assert all(v.credential_types.count() == 1 for v in history)


def test_terminated_agreement_is_final(world):
    agreement = svc.agreement_terminate(agreement=world.cn_recognizes_cl)
    for action in (svc.agreement_activate, svc.agreement_suspend):
        with pytest.raises(ValidationError, match="cannot go from terminated"):
            action(agreement=agreement)
    with pytest.raises(ValidationError, match="terminated agreement cannot be changed"):
        svc.agreement_update_terms(agreement=agreement, credential_types=[world.export_licence])


def test_update_terms_records_one_version_with_the_new_types(world):
    proposal = svc.agreement_update_terms(
        agreement=world.cn_recognizes_cl,
        credential_types=[world.merchant_identity, world.export_licence],
        min_assurance="high",
        user=world.alice,
        reason="export licences too",
    )
    # Adding a type widens trust: alice proposes, alice2 approves.
    agreement = approve(proposal=proposal, user=world.alice2)
    latest = versions(agreement)[-1]
    assert latest.min_assurance == "high" and latest.history_user == world.alice2
    assert sorted(latest.credential_types.values_list("credentialtype__code", flat=True)) == [
        "export-licence",
        "merchant-identity",
    ]
    assert len(versions(agreement)) == 2
    with pytest.raises(ValidationError, match="cannot be changed: destination"):
        svc.agreement_update_terms(agreement=agreement, credential_types=[world.merchant_identity], destination="KZ")
    with pytest.raises(ValidationError, match="without a legal basis"):
        svc.agreement_update_terms(agreement=agreement, credential_types=[world.merchant_identity], legal_basis=" ")


def test_propose_reciprocal_drafts_the_other_way(world):
    drafts = svc.agreement_propose_reciprocal(agreement=world.cn_recognizes_cl, user=world.alice)
    assert [(d.destination.code, d.authority, d.status) for d in drafts] == [("CL", world.cn.authority, "draft")]
    assert list(drafts[0].credential_types.all()) == [world.merchant_identity]
    with pytest.raises(ValidationError, match="already has an agreement"):
        svc.agreement_propose_reciprocal(agreement=world.cn_recognizes_cl, user=world.alice)


def test_in_force_respects_status_and_window_edges(world):
    start = timezone.now().replace(microsecond=0)
    end = start + timedelta(days=10)
    proposal = make_draft(world, legal_basis="memo", valid_from=start, valid_until=end, activate=True, reason="memo")
    agreement = approve(proposal=proposal, user=world.alice2)

    def in_force(at):
        return AgreementSnapshot.of(RecognitionAgreement.objects.get(pk=agreement.pk)).in_force(at)

    assert not in_force(start - timedelta(microseconds=1))
    assert in_force(start)
    assert in_force(end - timedelta(microseconds=1))
    assert not in_force(end)
    svc.agreement_suspend(agreement=agreement)
    assert not in_force(start)
    kz_agreements = RecognitionAgreement.objects.filter(destination="KZ")
    assert not any(AgreementSnapshot.of(kz_agreement).in_force(start) for kz_agreement in kz_agreements)


def test_public_listing_hides_drafts(world):
    draft = make_draft(world)
    assert not RecognitionAgreement.objects.visible_publicly().filter(pk=draft.pk).exists()
    assert RecognitionAgreement.objects.visible_publicly().filter(pk=world.cn_recognizes_cl.pk).exists()


def test_agreement_by_id_names_the_missing_id(db):
    with pytest.raises(ValidationError, match="no agreement with id 999"):
        svc.agreement_by_id(999)
    with pytest.raises(ValidationError, match="no agreement with id 'x'"):
        svc.agreement_by_id("x")


def test_an_agreement_with_the_very_same_terms_is_refused_naming_the_existing_one(world):
    valid_from = timezone.now() - timedelta(days=1)
    first = make_draft(world, valid_from=valid_from)
    with pytest.raises(ValidationError, match=rf"agreement {first.pk} \(draft\) already has these terms"):
        make_draft(world, valid_from=valid_from)
    with pytest.raises(ValidationError, match=rf"agreement {first.pk} \(draft\)"):
        make_draft(world, valid_from=valid_from, credential_types=[world.merchant_identity, world.merchant_identity])
    assert RecognitionAgreement.objects.filter(authority=world.kz.authority).count() == 1


def test_agreements_that_differ_in_any_term_or_replace_a_terminated_one_are_not_duplicates(world):
    valid_from = timezone.now() - timedelta(days=1)
    first = make_draft(world, valid_from=valid_from, legal_basis="CN-KZ memorandum")
    make_draft(world, valid_from=valid_from, credential_types=[world.merchant_identity, world.export_licence])
    make_draft(world, valid_from=valid_from, min_assurance="high")
    make_draft(world, valid_from=valid_from, valid_until=valid_from + timedelta(days=30))
    make_draft(world, valid_from=valid_from + timedelta(seconds=1))
    make_draft(world, valid_from=valid_from, destination="CL")
    svc.agreement_terminate(agreement=first, user=world.alice)
    make_draft(world, valid_from=valid_from)
    assert RecognitionAgreement.objects.filter(authority=world.kz.authority).count() == 7
