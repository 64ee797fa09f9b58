"""Warnings where a recognition can never succeed, as the administrator sees
them in the admin (recognition/admin.py, recognition/services/feasibility.py):
a warning message on saving an agreement (add and change) and a read-only
"Can it succeed?" on its page; nothing for a good agreement."""

from datetime import timedelta

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.utils import timezone

from identity.services.authorities import authority_update
from identity.services.keys import key_mark_compromised
from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_create
from tests.recognition.test_admin import terms_post
from tests.support.admin import add_url, change_url, client_for, split_datetime

WARNING = (
    "Every credential under this agreement will be rejected: "
    "Kazakhstan's authority may issue at most low, this agreement asks substantial."
)


@pytest.fixture
def alice(world):
    return client_for(world.alice)


@pytest.fixture
def kz_low(world):
    """Kazakhstan's authority accredited for `low` only."""
    authority_update(authority=world.kz.authority, name=world.kz.authority.name, max_assurance="low")
    return world.kz.authority


def add_post(world, authority, min_assurance: str) -> dict:
    return {
        "destination": "CN",
        "authority": authority.pk,
        "credential_types": [world.merchant_identity.pk],
        "min_assurance": min_assurance,
        **split_datetime("valid_from", timezone.now() - timedelta(days=1)),
        "valid_until_0": "",
        "valid_until_1": "",
        "legal_basis": "CN-KZ e-commerce memorandum",
        "reference_url": "",
        "notes": "",
    }


def warnings_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == messages.WARNING]


def test_adding_an_agreement_above_the_authoritys_accreditation_warns(world, alice, kz_low):
    response = alice.post(add_url(RecognitionAgreement), add_post(world, kz_low, "substantial"), follow=True)
    assert response.status_code == 200
    assert RecognitionAgreement.objects.filter(authority=kz_low).exists()  # a warning, not a refusal
    assert warnings_of(response) == [WARNING]
    assert WARNING in response.content.decode().replace("&#x27;", "'")


def test_adding_a_good_agreement_does_not_warn(world, alice, kz_low):
    response = alice.post(add_url(RecognitionAgreement), add_post(world, kz_low, "low"), follow=True)
    assert RecognitionAgreement.objects.filter(authority=kz_low).exists()
    assert warnings_of(response) == []


def test_changing_the_terms_to_what_cannot_succeed_warns(world, alice):
    agreement = world.cn_recognizes_cl
    authority_update(authority=world.cl.authority, name=world.cl.authority.name, max_assurance="substantial")
    good = alice.post(change_url(agreement), terms_post(agreement, min_assurance="substantial"), follow=True)
    assert good.status_code == 200 and warnings_of(good) == []
    response = alice.post(change_url(agreement), terms_post(agreement, min_assurance="high"), follow=True)
    agreement.refresh_from_db()
    assert agreement.min_assurance == "high"
    assert warnings_of(response) == [
        "Every credential under this agreement will be rejected: "
        "Chile's authority may issue at most substantial, this agreement asks high."
    ]


def test_saving_a_good_agreement_whose_authority_has_no_usable_key_warns(world, alice):
    key_mark_compromised(key=world.cl.key)
    agreement = world.cn_recognizes_cl
    response = alice.post(change_url(agreement), terms_post(agreement), follow=True)
    (warning,) = warnings_of(response)
    assert "Chile's authority has no key that can sign a credential accepted now" in warning
    assert f"{world.cl.key.kid} compromised" in warning


def test_the_agreement_page_says_whether_it_can_succeed(world, kz_low):
    cannot = agreement_create(
        destination="CN",
        authority=kz_low,
        credential_types=[world.merchant_identity],
        min_assurance="substantial",
        legal_basis="memo",
    )
    for who in (world.alice, world.rita, world.root):
        html = client_for(who).get(change_url(cannot)).content.decode().replace("&#x27;", "'")
        assert "Can it succeed?" in html and WARNING in html, who
    good = client_for(world.rita).get(change_url(world.cn_recognizes_cl)).content.decode()
    assert "Can it succeed?" in good and "Yes: nothing refuses every credential under it" in good
    assert "Every credential under this agreement will be rejected" not in good
