"""The decision (src/merchant_verifier/decide.py) as a pure function of the
token, the snapshots and the evaluation time passed in (DESIGN §5): the same
function the registry's API runs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from merchant_verifier.decide import Subject, above, decide
from merchant_verifier.model import AgreementSnapshot, AuthoritySnapshot, KeySnapshot, MerchantSnapshot, Policy
from merchant_verifier.reasons import Reason
from merchant_verifier.tokens import parse_token

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
PRIVATE = ed25519.Ed25519PrivateKey.generate()
JWK = OKPAlgorithm.to_jwk(PRIVATE.public_key(), as_dict=True)
POLICY = Policy(leeway=timedelta(seconds=60), max_lifetime=timedelta(days=400))
AUTHORITY = AuthoritySnapshot(1, "https://registro-cl.test/issuer", "Registro", "CL", "active", "high")
KEY = KeySnapshot(1, "cl-1", "EdDSA", JWK, "active", NOW - timedelta(days=100), None, None)
MERCHANT = MerchantSnapshot("CL-0001", "Comercial Andes", "active")
AGREEMENT = AgreementSnapshot(
    id=7,
    version=70,
    authority_id=AUTHORITY.id,
    destination="CN",
    origin="CL",
    status="active",
    valid_from=NOW - timedelta(days=10),
    valid_until=None,
    min_assurance="substantial",
    credential_types=("merchant-identity",),
    legal_basis="MoU 2016",
)
SUBJECT = Subject(
    destination="CN",
    declared_origin="CL",
    authority=AUTHORITY,
    key=KEY,
    merchant=MERCHANT,
    agreements=(AGREEMENT,),
    known_types=frozenset({"merchant-identity"}),
)


def claims(**overrides):
    base = {
        "iss": AUTHORITY.issuer,
        "sub": "CL-0001",
        "jti": "c-1",
        "iat": T - 3600,
        "exp": T + 86400,
        "credential_type": "merchant-identity",
        "assurance": "substantial",
        "merchant": {"legal_name": "Comercial Andes", "registration_number": "CL-0001", "country": "CL"},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(**overrides):
    return jwt.encode(
        claims(**overrides), PRIVATE, algorithm="EdDSA", headers={"kid": "cl-1", "typ": "merchant-credential+jwt"}
    )


def codes(tok, subject=SUBJECT, now=NOW):
    decision = decide(parsed=parse_token(tok, max_bytes=8192), subject=subject, now=now, policy=POLICY)
    assert decision.accepted == (decision.codes == [])
    return decision.codes


def test_accepts_a_valid_credential_under_an_agreement_in_force():
    decision = decide(parsed=parse_token(token(), max_bytes=8192), subject=SUBJECT, now=NOW, policy=POLICY)
    assert decision.accepted and decision.verified and decision.agreement == AGREEMENT


def test_domestic_credential_needs_no_agreement():
    assert codes(token(), replace(SUBJECT, destination="CL", agreements=())) == []


CASES = [
    ("unknown issuer", token(), replace(SUBJECT, authority=None), ["unknown_issuer"]),
    ("unknown key", token(), replace(SUBJECT, key=None), ["unknown_key"]),
    ("alg mismatch", token(), replace(SUBJECT, key=replace(KEY, alg="ES256")), ["algorithm_mismatch"]),
    ("bad signature", token()[:-4] + "AAAA", SUBJECT, ["invalid_signature"]),
    ("iat as string", token(iat=str(T)), SUBJECT, ["invalid_claim"]),
    (
        "merchant disagrees",
        token(merchant={"legal_name": "X", "registration_number": "other", "country": "CL"}),
        SUBJECT,
        ["invalid_claim"],
    ),
    (
        "merchant country",
        token(merchant={"legal_name": "X", "registration_number": "CL-0001", "country": "CN"}),
        SUBJECT,
        ["invalid_claim"],
    ),
    ("lifetime", token(exp=T - 3600 + 401 * 86400), SUBJECT, ["invalid_claim"]),
    (
        "unknown type",
        token(credential_type="tax-registration"),
        SUBJECT,
        ["invalid_claim", "credential_type_not_recognized"],
    ),
    ("expired", token(exp=T - 61), SUBJECT, ["expired"]),
    ("expired within leeway", token(exp=T - 59), SUBJECT, []),
    ("nbf future", token(nbf=T + 61), SUBJECT, ["not_yet_valid"]),
    ("iat future", token(iat=T + 61), SUBJECT, ["not_yet_valid"]),
    ("compromised", token(), replace(SUBJECT, key=replace(KEY, status="compromised")), ["key_compromised"]),
    ("before not_before", token(iat=T - 200 * 86400, exp=T + 86400), SUBJECT, ["key_not_valid_at_issuance"]),
    (
        "after retirement",
        token(),
        replace(SUBJECT, key=replace(KEY, status="retired", retired_at=NOW - timedelta(hours=2))),
        ["key_not_valid_at_issuance"],
    ),
    (
        "before retirement",
        token(),
        replace(SUBJECT, key=replace(KEY, status="retired", retired_at=NOW - timedelta(minutes=30))),
        [],
    ),
    (
        "after not_after",
        token(),
        replace(SUBJECT, key=replace(KEY, not_after=NOW - timedelta(hours=2))),
        ["key_not_valid_at_issuance"],
    ),
    (
        "issuer suspended",
        token(),
        replace(SUBJECT, authority=replace(AUTHORITY, status="suspended")),
        ["issuer_suspended"],
    ),
    ("issuer revoked", token(), replace(SUBJECT, authority=replace(AUTHORITY, status="revoked")), ["issuer_revoked"]),
    ("unknown merchant", token(), replace(SUBJECT, merchant=None), ["unknown_merchant"]),
    (
        "merchant suspended",
        token(),
        replace(SUBJECT, merchant=replace(MERCHANT, status="suspended")),
        ["merchant_suspended"],
    ),
    ("merchant revoked", token(), replace(SUBJECT, merchant=replace(MERCHANT, status="revoked")), ["merchant_revoked"]),
    ("credential revoked", token(), replace(SUBJECT, credential_status="revoked"), ["credential_revoked"]),
    ("credential suspended", token(), replace(SUBJECT, credential_status="suspended"), ["credential_suspended"]),
    ("credential valid", token(), replace(SUBJECT, credential_status="valid"), []),
    (
        "above accreditation",
        token(),
        replace(SUBJECT, authority=replace(AUTHORITY, max_assurance="low")),
        ["assurance_exceeds_accreditation"],
    ),
    ("origin mismatch", token(), replace(SUBJECT, declared_origin="VN"), ["origin_mismatch"]),
    ("no agreement", token(), replace(SUBJECT, agreements=()), ["no_agreement"]),
    (
        "suspended agreement",
        token(),
        replace(SUBJECT, agreements=(replace(AGREEMENT, status="suspended"),)),
        ["agreement_not_in_force"],
    ),
    (
        "draft agreement",
        token(),
        replace(SUBJECT, agreements=(replace(AGREEMENT, status="draft"),)),
        ["agreement_not_in_force"],
    ),
    (
        "window ended",
        token(),
        replace(SUBJECT, agreements=(replace(AGREEMENT, valid_until=NOW),)),
        ["agreement_not_in_force"],
    ),
    (
        "window not begun",
        token(),
        replace(SUBJECT, agreements=(replace(AGREEMENT, valid_from=NOW + timedelta(seconds=1)),)),
        ["agreement_not_in_force"],
    ),
    (
        "type not covered",
        token(),
        replace(SUBJECT, agreements=(replace(AGREEMENT, credential_types=("export-licence",)),)),
        ["credential_type_not_recognized"],
    ),
    ("assurance low", token(assurance="low"), SUBJECT, ["assurance_below_minimum"]),
]


@pytest.mark.parametrize(("tok", "subject", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_decision_table(tok, subject, expected):
    assert codes(tok, subject) == expected


def test_every_policy_failure_is_listed_at_once():
    subject = replace(
        SUBJECT,
        key=replace(KEY, status="compromised"),
        authority=replace(AUTHORITY, status="suspended", max_assurance="low"),
        merchant=replace(MERCHANT, status="revoked"),
        credential_status="revoked",
        declared_origin="KZ",
        agreements=(replace(AGREEMENT, status="suspended"),),
    )
    assert codes(token(exp=T - 120), subject) == [
        "expired",
        "key_compromised",
        "issuer_suspended",
        "merchant_revoked",
        "credential_revoked",
        "assurance_exceeds_accreditation",
        "origin_mismatch",
        "agreement_not_in_force",
    ]


def test_cryptographic_failure_stops_before_any_policy_check():
    subject = replace(SUBJECT, merchant=None, agreements=())
    decision = decide(
        parsed=parse_token(token()[:-4] + "AAAA", max_bytes=8192), subject=subject, now=NOW, policy=POLICY
    )
    assert decision.codes == ["invalid_signature"] and not decision.verified and decision.claims == {}


COMPROMISED = replace(SUBJECT, key=replace(KEY, status="compromised"))
AUTHENTICATED = [
    ("accepted", token(), SUBJECT, True),
    ("verified, policy failures", token(exp=T - 120), replace(SUBJECT, merchant=None), True),
    ("compromised key", token(), COMPROMISED, False),
    ("compromised key among others", token(exp=T - 120), replace(COMPROMISED, declared_origin="KZ"), False),
    ("bad signature", token()[:-4] + "AAAA", SUBJECT, False),
    ("bad signature, compromised key", token()[:-4] + "AAAA", COMPROMISED, False),
    ("unknown key", token(), replace(SUBJECT, key=None), False),
    ("malformed", "not-a-token", SUBJECT, False),
]


@pytest.mark.parametrize(
    ("tok", "subject", "expected"), [case[1:] for case in AUTHENTICATED], ids=[case[0] for case in AUTHENTICATED]
)
def test_only_a_verified_signature_of_a_key_not_compromised_authenticates(tok, subject, expected):
    decision = decide(parsed=parse_token(tok, max_bytes=8192), subject=subject, now=NOW, policy=POLICY)
    assert decision.authenticated is expected


def test_a_compromised_key_verifies_and_every_policy_reason_is_still_listed():
    decision = decide(
        parsed=parse_token(token(exp=T - 120), max_bytes=8192),
        subject=replace(COMPROMISED, merchant=None, declared_origin="KZ"),
        now=NOW,
        policy=POLICY,
    )
    assert decision.verified and not decision.authenticated
    assert decision.codes == ["expired", "key_compromised", "unknown_merchant", "origin_mismatch"]
    assert decision.agreement == AGREEMENT and decision.claims["sub"] == "CL-0001"


def test_an_agreement_that_accepts_wins_over_one_that_asks_more():
    strict = replace(AGREEMENT, id=8, min_assurance="high")
    decision = decide(
        parsed=parse_token(token(), max_bytes=8192),
        subject=replace(SUBJECT, agreements=(strict, AGREEMENT)),
        now=NOW,
        policy=POLICY,
    )
    assert decision.accepted and decision.agreement.id == 7


def test_decision_depends_on_the_time_passed_in_only():
    tok = token(exp=T + 10)
    assert codes(tok, now=NOW) == []
    assert codes(tok, now=NOW + timedelta(seconds=71)) == ["expired"]


def test_a_suspended_credential_is_refused_where_a_revoked_one_is_and_says_so():
    subject = replace(
        SUBJECT, merchant=replace(MERCHANT, status="suspended"), credential_status="suspended", declared_origin="KZ"
    )
    decision = decide(parsed=parse_token(token(), max_bytes=8192), subject=subject, now=NOW, policy=POLICY)
    assert decision.verified and decision.authenticated and not decision.accepted
    assert decision.reasons == (
        (Reason.MERCHANT_SUSPENDED, "merchant CL-0001 is suspended"),
        (Reason.CREDENTIAL_SUSPENDED, "the registry has suspended this credential"),
        (Reason.ORIGIN_MISMATCH, "origin KZ is not the issuer's country CL"),
    )


@pytest.mark.parametrize(
    ("level", "ceiling", "expected"),
    [
        ("low", "low", False),
        ("substantial", "low", True),
        ("high", "substantial", True),
        ("substantial", "high", False),
        ("low", "high", False),
    ],
)
def test_above_follows_the_order_of_the_levels_of_assurance(level, ceiling, expected):
    assert above(level, ceiling) is expected
