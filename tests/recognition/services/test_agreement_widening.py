"""Which changes of an agreement's terms widen trust (README, Four-eyes
approval): on an active or suspended agreement a country administrator's
lower minimum assurance, added type, earlier start or later (or no) end is a
proposal, a change mixing narrowing and widening is proposed whole; pure
narrowing, wording and drafts apply at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from accounts.models import Proposal
from accounts.proposals import approve
from accounts.services import user_create_with_role
from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_create, agreement_update_terms
from tests.support.actors import build_world


def terms_of(agreement: RecognitionAgreement) -> dict:
    return {
        "min_assurance": agreement.min_assurance,
        "valid_from": agreement.valid_from,
        "valid_until": agreement.valid_until,
        "legal_basis": agreement.legal_basis,
        "reference_url": agreement.reference_url,
        "notes": agreement.notes,
    }


def change(world, agreement=None, types=None, **terms):
    agreement = agreement or world.cn_recognizes_cl
    return agreement_update_terms(
        agreement=agreement,
        credential_types=types or list(agreement.credential_types.all()),
        user=world.alice,
        reason="renegotiated",
        **{**terms_of(agreement), **terms},
    )


def bounded(world) -> RecognitionAgreement:
    """CN←CL with an end, so that its end can move."""
    agreement = world.cn_recognizes_cl
    agreement_update_terms(
        agreement=agreement,
        credential_types=[world.merchant_identity],
        user=world.root,
        **{**terms_of(agreement), "min_assurance": "substantial", "valid_until": timezone.now() + timedelta(days=30)},
    )
    agreement.refresh_from_db()
    return agreement


@pytest.mark.parametrize(
    ("widening", "phrase"),
    [
        (lambda w, a: {"min_assurance": "low"}, "minimum assurance substantial → low"),
        (lambda w, a: {"types": [w.merchant_identity, w.export_licence]}, "adds credential types export-licence"),
        (lambda w, a: {"valid_from": a.valid_from - timedelta(days=1)}, "starts earlier"),
        (lambda w, a: {"valid_until": a.valid_until + timedelta(days=1)}, "ends later"),
        (lambda w, a: {"valid_until": None}, "ends later"),
    ],
    ids=["lower-assurance", "added-type", "earlier-start", "later-end", "no-end"],
)
def test_each_widening_term_is_proposed(world, widening, phrase):
    agreement = bounded(world)
    before = terms_of(agreement)
    wanted = widening(world, agreement)
    proposal = change(world, agreement, **wanted)
    assert isinstance(proposal, Proposal) and phrase in proposal.summary
    agreement.refresh_from_db()
    assert terms_of(agreement) == before and agreement.credential_types.count() == 1
    approve(proposal=proposal, user=world.alice2)
    agreement.refresh_from_db()
    for name, value in wanted.items():
        if name == "types":
            assert set(agreement.credential_types.all()) == set(value)
        else:
            assert getattr(agreement, name) == value


def test_a_change_mixing_narrowing_and_widening_is_proposed_whole(world):
    agreement = bounded(world)
    proposal = change(world, agreement, min_assurance="high", types=[world.merchant_identity, world.export_licence])
    agreement.refresh_from_db()
    assert agreement.min_assurance == "substantial"
    approve(proposal=proposal, user=world.alice2)
    agreement.refresh_from_db()
    assert agreement.min_assurance == "high" and agreement.credential_types.count() == 2


@pytest.mark.parametrize(
    "narrowing",
    [
        {"min_assurance": "high"},
        {"legal_basis": "Amended memorandum", "notes": "see annex", "reference_url": "https://cn.example/memo"},
    ],
    ids=["higher-assurance", "wording"],
)
def test_narrowing_and_wording_apply_at_once(world, narrowing):
    agreement = bounded(world)
    changed = change(world, agreement, **narrowing)
    assert isinstance(changed, RecognitionAgreement)
    for name, value in narrowing.items():
        assert getattr(changed, name) == value
    assert not Proposal.objects.exists()


def test_an_earlier_end_and_a_later_start_apply_at_once(world):
    agreement = bounded(world)
    changed = change(
        world,
        agreement,
        valid_from=agreement.valid_from + timedelta(days=1),
        valid_until=agreement.valid_until - timedelta(days=1),
    )
    assert isinstance(changed, RecognitionAgreement)


def test_a_drafts_terms_change_at_once(world):
    draft = agreement_create(
        destination="CN", authority=world.kz.authority, credential_types=[world.merchant_identity], user=world.alice
    )
    changed = change(world, draft, min_assurance="low", types=[world.merchant_identity, world.export_licence])
    assert isinstance(changed, RecognitionAgreement) and changed.min_assurance == "low"


def test_a_widening_that_the_service_would_refuse_is_refused_before_it_is_proposed(world):
    with pytest.raises(ValidationError, match="without a legal basis"):
        change(world, min_assurance="low", legal_basis=" ")
    assert not Proposal.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_apply_once(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL to a postgres:// URL)")
    world = build_world()
    chen, _ = user_create_with_role(username="chen", role="country_admin", country="CN", password=None)
    proposal = change(world, types=[world.merchant_identity, world.export_licence])
    barrier = threading.Barrier(2, timeout=30)

    def approving(user):
        def job():
            try:
                barrier.wait()
                approve(proposal=proposal, user=user)
                return "applied"
            except ValidationError as exc:
                return exc.messages[0]
            finally:
                connections.close_all()

        return job

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [future.result(timeout=60) for future in [pool.submit(approving(u)) for u in (world.alice2, chen)]]
    assert sorted(results)[0] == "applied"
    assert "is approved; only a pending proposal is decided" in sorted(results)[1]
    versions = RecognitionAgreement.history.filter(
        id=world.cn_recognizes_cl.pk, history_change_reason__contains="approved"
    )
    assert versions.count() == 1
