"""Property: whatever the registry's state and whatever the credential, the
verifier package reading the registry's fresh lists answers as the API
does, but for the exceptions README "Verifying offline" documents
(tests/support/parity.py).

Each example sets the whole state it depends on (authority, key, merchant,
agreement, the registry-issued credential), so examples do not leak into
one another; the states are set with plain updates, which the registry's
triggers see as any change (the trust lists and status lists follow them).
"""

import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from identity.models import Authority, AuthorityKey, IssuedCredential, Merchant
from identity.services.credentials import credential_issue
from recognition.models import RecognitionAgreement
from tests.support.tokens import DROP, TYP, sign

LEVELS = ["low", "substantial", "high"]
DAY = 86400

states = st.fixed_dictionaries(
    {
        # Each dimension leans towards the state in which the others still
        # matter: a credential's status is only read once the authority is
        # listed and the signature verified.
        "authority": st.sampled_from(["active", "active", "active", "suspended", "revoked"]),
        "max_assurance": st.sampled_from(LEVELS),
        "merchant": st.sampled_from(["active", "suspended", "revoked"]),
        "key": st.sampled_from(["active", "active", "retired", "compromised"]),
        "credential": st.sampled_from(["valid", "suspended", "revoked"]),
        "agreement": st.sampled_from(["active", "active", "active", "suspended", "terminated", "draft"]),
        "window": st.sampled_from(["open", "open", "bounded", "ended", "future"]),
        "min_assurance": st.sampled_from(LEVELS),
        "types": st.sampled_from(
            [("merchant-identity",), ("export-licence",), ("merchant-identity", "export-licence")]
        ),
    }
)
tokens = st.fixed_dictionaries(
    {
        "registry_issued": st.sampled_from([True, True, False]),
        "assurance": st.sampled_from([*LEVELS, "very-high"]),
        "credential_type": st.sampled_from(["merchant-identity", "export-licence", "customs-broker"]),
        "sub": st.sampled_from(["own", "unregistered"]),
        "exp": st.sampled_from([DAY, DAY, -DAY, 500 * DAY]),
        "iat": st.sampled_from([-60, -60, -40 * DAY, 3600]),
        "destination": st.sampled_from(["CN", "CN", "CL", "KZ"]),
        "origin": st.sampled_from([None, "CL", "KZ"]),
        "signer": st.sampled_from(["own", "own", "own", "stranger"]),
    }
)


def _set_state(world, world_credential, state: dict) -> IssuedCredential:
    now = timezone.now()
    cl = world.cl
    Authority.objects.filter(pk=cl.authority.pk).update(status=state["authority"], max_assurance=state["max_assurance"])
    Merchant.objects.filter(pk=cl.merchant.pk).update(status=state["merchant"], assurance="high")
    key = {"status": state["key"], "retired_at": None, "compromised_at": None}
    if state["key"] == "retired":
        key["retired_at"] = now - timedelta(days=20)
    if state["key"] == "compromised":
        key["compromised_at"] = now - timedelta(days=1)
    AuthorityKey.objects.filter(pk=cl.key.pk).update(**key)
    window = {
        "open": (now - timedelta(days=365), None),
        "ended": (now - timedelta(days=365), now - timedelta(days=1)),
        "future": (now + timedelta(days=1), None),
        "bounded": (now - timedelta(days=10), now + timedelta(days=10)),
    }[state["window"]]
    agreement = world.cn_recognizes_cl
    RecognitionAgreement.objects.filter(pk=agreement.pk).update(
        status=state["agreement"], valid_from=window[0], valid_until=window[1], min_assurance=state["min_assurance"]
    )
    agreement.credential_types.set([world.merchant_identity if code == "merchant-identity" else world.export_licence
                                    for code in state["types"]])  # fmt: skip
    credential = world_credential[0]
    revoked_at = now - timedelta(hours=1) if state["credential"] == "revoked" else None
    IssuedCredential.objects.filter(pk=credential.pk).update(status=state["credential"], revoked_at=revoked_at)
    return credential


def _token(world, world_credential, token: dict) -> str:
    now = int(time.time())
    merchant = world.cl.merchant
    claims = {
        "iss": world.cl.authority.issuer,
        "sub": merchant.registration_number if token["sub"] == "own" else "CL-UNREGISTERED",
        "jti": world_credential[0].jti if token["registry_issued"] else f"own-software-{now}",
        "iat": now + token["iat"],
        "nbf": DROP,
        "exp": now + token["iat"] + token["exp"],
        "credential_type": token["credential_type"],
        "assurance": token["assurance"],
        "merchant": {
            "legal_name": merchant.legal_name,
            "registration_number": merchant.registration_number if token["sub"] == "own" else "CL-UNREGISTERED",
            "country": "CL",
        },
    }
    if token["registry_issued"]:
        claims["status"] = world_credential[1]
    claims = {name: value for name, value in claims.items() if value is not DROP}
    if token["signer"] == "stranger":
        stranger = ed25519.Ed25519PrivateKey.generate()
        return jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": world.cl.key.kid, "typ": TYP})
    return sign(world.cl, claims)


@pytest.fixture
def world_credential(world):
    """A credential the registry issued to CL's merchant, and its status claim."""
    issued = credential_issue(
        merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity
    )
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    return issued.credential, claims["status"]


FINE = {
    "authority": "active",
    "max_assurance": "high",
    "merchant": "active",
    "key": "active",
    "credential": "valid",
    "agreement": "active",
    "window": "open",
    "min_assurance": "low",
    "types": ("merchant-identity",),
}
GOOD = {
    "registry_issued": True,
    "assurance": "substantial",
    "credential_type": "merchant-identity",
    "sub": "own",
    "exp": DAY,
    "iat": -60,
    "destination": "CN",
    "origin": None,
    "signer": "own",
}


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(state=states, token=tokens)
@example(state=FINE, token=GOOD)
@example(state={**FINE, "credential": "suspended"}, token=GOOD)
@example(state={**FINE, "credential": "revoked"}, token=GOOD)
@example(state={**FINE, "credential": "revoked", "merchant": "suspended"}, token={**GOOD, "destination": "CL"})
@example(state={**FINE, "credential": "suspended", "merchant": "revoked"}, token=GOOD)
@example(state={**FINE, "merchant": "suspended"}, token={**GOOD, "registry_issued": False})
@example(state={**FINE, "credential": "suspended"}, token={**GOOD, "sub": "unregistered"})
# The API names the credential's suspension (by jti); the entry it carries says invalid, its
# merchant (not the one the token names) being revoked: the package says credential_revoked.
@example(state={**FINE, "credential": "suspended", "merchant": "revoked"}, token={**GOOD, "sub": "unregistered"})
def test_the_package_answers_as_the_api_does(world, world_credential, api, state, token):
    _set_state(world, world_credential, state)
    text = _token(world, world_credential, token)
    response = api.verify(text, token["destination"], token["origin"])
    assert response.status_code == 200, response.content
