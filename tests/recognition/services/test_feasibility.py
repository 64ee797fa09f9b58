"""Can a recognition ever succeed? `agreement_problems` as a pure function of
the snapshots (recognition/services/feasibility.py): each problem alone,
none for a good agreement, judged at the instant given. Where the warnings
are shown: tests/recognition/test_agreement_warnings.py (admin),
tests/recognition/services/test_matrix.py (matrix), tests/recognition/web/
test_trust_page.py (trust list)."""

from dataclasses import replace
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from identity.reasons import Reason
from merchant_verifier.decide import Subject, decide
from merchant_verifier.tokens import parse_token
from recognition.services.feasibility import (
    Problem,
    ProblemCode,
    agreement_problems,
    recognition_problems,
    warning,
)
from recognition.snapshots import AgreementSnapshot, KeySnapshot, MerchantSnapshot, current_policy
from tests.support.snapshots import AT, COMPROMISED_KEY, USABLE_KEY, authority_state

DAY = timedelta(days=1)


def agreement(**changes) -> AgreementSnapshot:
    fields = {
        "id": 12,
        "version": 1,
        "authority_id": 1,
        "destination": "CN",
        "origin": "KH",
        "status": "active",
        "valid_from": AT - 10 * DAY,
        "valid_until": None,
        "min_assurance": "substantial",
        "credential_types": ("merchant-identity",),
        "legal_basis": "memorandum",
    }
    return AgreementSnapshot(**{**fields, **changes})


def cambodia(**changes):
    return replace(authority_state(1, country="KH"), **changes)


def codes(problems: list[Problem]) -> list[str]:
    return [problem.code.value for problem in problems]


def test_a_good_agreement_has_no_problem():
    assert agreement_problems(agreement(), cambodia(), AT) == []


def test_minimum_assurance_above_the_accreditation_is_named_in_the_administrators_words():
    problems = agreement_problems(agreement(min_assurance="substantial"), cambodia(max_assurance="low"), AT)
    assert problems == [
        Problem(
            ProblemCode.ASSURANCE_ABOVE_ACCREDITATION,
            "Cambodia's authority may issue at most low, this agreement asks substantial",
        )
    ]
    assert warning(problems) == (
        "Every credential under this agreement will be rejected: "
        "Cambodia's authority may issue at most low, this agreement asks substantial."
    )


@pytest.mark.parametrize(
    ("min_assurance", "max_assurance", "problem"),
    [
        ("low", "low", False),
        ("substantial", "substantial", False),
        ("high", "high", False),
        ("low", "high", False),
        ("substantial", "low", True),
        ("high", "substantial", True),
        ("high", "low", True),
    ],
)
def test_assurance_follows_the_eidas_order(min_assurance, max_assurance, problem):
    found = agreement_problems(agreement(min_assurance=min_assurance), cambodia(max_assurance=max_assurance), AT)
    assert codes(found) == (["assurance_above_accreditation"] if problem else [])


def test_the_decision_rejects_the_best_credential_of_an_agreement_that_cannot_succeed():
    """The problem is the decision's own verdict: a credential at the
    authority's highest level is refused with assurance_below_minimum."""
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    key = KeySnapshot(1, "k1", "EdDSA", jwk, "active", AT - 30 * DAY, None, None)
    authority, terms = cambodia(max_assurance="low", keys=(key,)), agreement()
    claims = {
        "iss": authority.issuer,
        "sub": "00012345",
        "jti": "j1",
        "iat": int((AT - DAY).timestamp()),
        "exp": int((AT + DAY).timestamp()),
        "credential_type": "merchant-identity",
        "assurance": "low",
        "merchant": {"legal_name": "Angkor Silk House", "registration_number": "00012345", "country": "KH"},
    }
    token = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "k1", "typ": "merchant-credential+jwt"})
    subject = Subject(
        destination="CN",
        declared_origin=None,
        authority=authority,
        key=key,
        merchant=MerchantSnapshot("00012345", "Angkor Silk House", "active"),
        agreements=(terms,),
        known_types=frozenset({"merchant-identity"}),
    )
    decision = decide(parsed=parse_token(token, max_bytes=8192), subject=subject, now=AT, policy=current_policy())
    assert [code for code, _ in decision.reasons] == [Reason.ASSURANCE_BELOW_MINIMUM]
    assert codes(agreement_problems(terms, authority, AT)) == ["assurance_above_accreditation"]


@pytest.mark.parametrize(
    ("keys", "detail"),
    [
        ((), "Cambodia's authority has registered no key"),
        ((COMPROMISED_KEY,), "k0 compromised"),
        ((replace(USABLE_KEY, status="retired", retired_at=AT - 500 * DAY),), "k1 retired"),
        ((replace(USABLE_KEY, not_before=AT - 900 * DAY, not_after=AT - 500 * DAY),), "k1 active"),
    ],
    ids=["none", "compromised", "retired-long-ago", "expired"],
)
def test_no_usable_key(keys, detail):
    (problem,) = agreement_problems(agreement(), cambodia(keys=keys), AT)
    assert problem.code == ProblemCode.NO_USABLE_KEY and detail in problem.detail


def test_a_compromised_key_beside_a_usable_one_is_no_problem():
    assert agreement_problems(agreement(), cambodia(keys=(COMPROMISED_KEY, USABLE_KEY)), AT) == []


def test_window_judged_at_the_instant():
    window = agreement(valid_from=AT, valid_until=AT + 10 * DAY)
    assert codes(agreement_problems(window, cambodia(), AT - timedelta(microseconds=1))) == ["not_yet_in_force"]
    assert agreement_problems(window, cambodia(), AT) == []
    later = AT + 10 * DAY
    (ended,) = agreement_problems(window, cambodia(), later)
    assert ended.code == ProblemCode.WINDOW_ENDED
    assert ended.detail == "this agreement's window ended on 2026-03-11T00:00:00Z"


@pytest.mark.parametrize(("status", "code"), [("suspended", "authority_suspended"), ("revoked", "authority_revoked")])
def test_authority_status(status, code):
    assert codes(agreement_problems(agreement(), cambodia(status=status), AT)) == [code]


@pytest.mark.parametrize(
    ("status", "found"),
    [("suspended", ["agreement_suspended"]), ("terminated", ["agreement_terminated"]), ("draft", [])],
)
def test_agreement_status_a_draft_being_judged_as_if_active(status, found):
    assert codes(agreement_problems(agreement(status=status), cambodia(), AT)) == found


def test_every_problem_at_once_in_the_order_an_administrator_fixes_them():
    terms = agreement(status="suspended", valid_until=AT - DAY, min_assurance="high")
    found = agreement_problems(terms, cambodia(status="suspended", max_assurance="low", keys=()), AT)
    assert codes(found) == [
        "agreement_suspended",
        "window_ended",
        "authority_suspended",
        "assurance_above_accreditation",
        "no_usable_key",
    ]


def test_a_recognition_fails_only_when_every_agreement_fails():
    authority = cambodia(max_assurance="low")
    bad, good = agreement(id=1), agreement(id=2, min_assurance="low")
    assert recognition_problems([bad, good], authority, AT) == []
    assert recognition_problems([], authority, AT) == []
    twice = recognition_problems([bad, agreement(id=3)], authority, AT)
    assert codes(twice) == ["assurance_above_accreditation"]


def test_no_problem_no_warning():
    assert warning([]) == ""
