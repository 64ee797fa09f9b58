"""The demo as a country administrator first sees it in the admin (DESIGN
§7): China's agreement with the UAE, whose window ended on 2025-01-01, is
Active and not in force; Pakistan's compromised key is visible to China's
administrator."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from identity.models import AuthorityKey, KeyStatus
from recognition.models import RecognitionAgreement
from tests.support.admin import changelist_url, client_for, listed_row


@pytest.fixture
def demo(db) -> None:
    call_command("load_demo", "--allow-without-debug", stdout=StringIO())


def admin_of(country: str):
    return client_for(get_user_model().objects.get(username=f"demo-{country.lower()}-admin"))


def test_china_recognizing_the_uae_is_active_and_not_in_force(demo):
    agreement = RecognitionAgreement.objects.get(destination="CN", origin="AE")
    row = listed_row(admin_of("CN").get(changelist_url(RecognitionAgreement)), agreement)
    assert "Active" in row and "No, ended 2025-01-01 00:00:00 UTC" in row
    assert "United Arab Emirates (AE)" in row


def test_china_administrator_sees_pakistans_compromised_key(demo):
    key = AuthorityKey.objects.get(authority__country="PK", status=KeyStatus.COMPROMISED)
    row = listed_row(admin_of("CN").get(changelist_url(AuthorityKey)), key)
    assert "Compromised since" in row and "Pakistan (PK)" in row and "foreign (read-only)" in row
