"""Integrity lives in the database too (STYLE.md): writes that bypass the
services are still refused."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CountryRole
from identity.models import AuthorityKey, Merchant
from recognition.models import RecognitionAgreement


def refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_kid_is_unique_per_authority(world):
    key = world.cn.key
    refused(
        lambda: AuthorityKey.objects.create(
            authority=key.authority, kid=key.kid, alg="EdDSA", public_jwk={}, not_before=timezone.now()
        )
    )


def test_registration_number_is_unique_per_authority(world):
    merchant = world.cn.merchant
    refused(
        lambda: Merchant.objects.create(
            authority=merchant.authority, registration_number=merchant.registration_number, legal_name="Dup"
        )
    )


def test_agreement_window_must_be_ordered(world):
    agreement = world.cn_recognizes_cl
    refused(lambda: RecognitionAgreement.objects.filter(pk=agreement.pk).update(valid_until=agreement.valid_from))


def test_agreement_destination_must_differ_from_the_authoritys_country(world):
    refused(lambda: RecognitionAgreement.objects.filter(pk=world.cn_recognizes_cl.pk).update(destination="CL"))


def test_active_agreement_needs_a_legal_basis(world):
    refused(lambda: RecognitionAgreement.objects.filter(pk=world.cn_recognizes_cl.pk).update(legal_basis=""))


def test_unknown_status_values_are_refused(world):
    refused(lambda: RecognitionAgreement.objects.filter(pk=world.cn_recognizes_cl.pk).update(status="deleted"))
    refused(lambda: Merchant.objects.filter(pk=world.cn.merchant.pk).update(status="gone"))


def test_compromised_key_needs_its_timestamp(world):
    refused(lambda: AuthorityKey.objects.filter(pk=world.cn.key.pk).update(status="compromised"))


def test_key_window_must_be_ordered(world):
    key = world.cn.key
    refused(lambda: AuthorityKey.objects.filter(pk=key.pk).update(not_after=key.not_before - timedelta(seconds=1)))


def test_country_admin_role_needs_a_country_and_regulator_none(world):
    refused(lambda: CountryRole.objects.filter(user=world.alice).update(country=""))
    refused(lambda: CountryRole.objects.filter(user=world.rita).update(country="CN"))
