"""API keys made by `manage.py create_api_key` at work (DESIGN §7): the
printed key verifies, a regulator's too; the audit row names the key; a
revoked key is refused (the command itself: tests/accounts/test_commands.py)."""

from rest_framework.test import APIClient

from accounts.models import ApiKey, KeyRole
from recognition.models import Verification
from tests.support.api import VERIFY_URL
from tests.support.cli import call, create_key
from tests.support.tokens import sign


def verify_with(key: str, world) -> object:
    return APIClient().post(
        VERIFY_URL,
        {"token": sign(world.cl), "destination": "CN", "origin": "CL"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def test_prints_only_the_key_and_the_key_verifies(world):
    output = call("create_api_key", "acme-marketplace")
    key = output.stdout.strip()
    assert output.stdout == key + "\n"
    assert key not in output.stderr
    assert "acme-marketplace" in output.stderr and "not shown again" in output.stderr
    api_key = ApiKey.objects.get(name="acme-marketplace")
    assert api_key.role == KeyRole.PLATFORM
    assert key.startswith(api_key.prefix + ".")
    response = verify_with(key, world)
    assert response.status_code == 200
    assert response.json()["decision"] == "accepted"


def test_a_regulator_key_verifies_too(world):
    key = create_key("market-watch", "--role", "regulator")
    assert ApiKey.objects.get(name="market-watch").role == KeyRole.REGULATOR
    assert verify_with(key, world).status_code == 200


def test_the_audit_row_names_the_key(world):
    key = create_key("silk-road-mall")
    verify_with(key, world)
    assert Verification.objects.get().client == "silk-road-mall"


def test_a_revoked_key_is_refused_with_401(world):
    key = create_key("closed-platform")
    api_key = ApiKey.objects.get(name="closed-platform")
    api_key.revoked = True
    api_key.save()
    response = verify_with(key, world)
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
    assert not Verification.objects.exists()
