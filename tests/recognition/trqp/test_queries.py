"""TRQP's verdicts (recognition/trqp/queries.py) as pure functions of the
snapshots: authorization and recognition, at home and abroad, with and
without a usable key (the TRQP endpoints: tests/api/test_trqp.py)."""

from datetime import datetime, timedelta

from recognition.snapshots import AgreementSnapshot
from recognition.trqp.queries import authorization_verdict, recognition_verdict
from tests.support.snapshots import AT, COMPROMISED_KEY, authority_state


def agreement_state(
    id: int, authority_id: int, *, at: datetime, valid_until: datetime | None = None
) -> AgreementSnapshot:
    valid_from = at - timedelta(days=1)
    return AgreementSnapshot(
        id=id,
        version=id,
        authority_id=authority_id,
        destination="CN",
        origin="CL",
        status="active",
        valid_from=valid_from,
        valid_until=valid_until,
        min_assurance="low",
        credential_types=("merchant-identity",),
        legal_basis="memo",
    )


def test_verdicts_are_pure_functions_of_snapshots():
    cl = authority_state(1, "CL")
    in_force = agreement_state(10, 1, at=AT)
    expired = agreement_state(11, 1, at=AT, valid_until=AT)
    common = {"entity_id": cl.issuer, "resource": "merchant-identity", "type_known": True, "at": AT}
    assert recognition_verdict(authority=cl, authority_id="CN", agreements=[in_force], **common).granted
    assert not recognition_verdict(authority=cl, authority_id="CN", agreements=[expired], **common).granted
    assert not recognition_verdict(authority=cl, authority_id="KZ", agreements=[in_force], **common).granted
    assert recognition_verdict(authority=cl, authority_id="CL", agreements=[], **common).granted
    assert authorization_verdict(authority=cl, authority_id="CL", **common).granted
    suspended = authority_state(1, "CL", status="suspended")
    assert not authorization_verdict(authority=suspended, authority_id="CL", **common).granted
    assert not recognition_verdict(authority=suspended, authority_id="CL", agreements=[], **common).granted
    assert not authorization_verdict(authority=None, authority_id="CL", **common).granted
    # Without a usable key nothing of the authority is recognized, at home or abroad; it stays authorized.
    for keys, listed in [((), "none registered"), ((COMPROMISED_KEY,), "k0 compromised")]:
        keyless = authority_state(1, "CL", keys=keys)
        verdict = recognition_verdict(authority=keyless, authority_id="CN", agreements=[in_force], **common)
        assert not verdict.granted and "no key of https://a1.test could sign a credential accepted" in verdict.message
        assert f"(keys: {listed})" in verdict.message
        assert not recognition_verdict(authority=keyless, authority_id="CL", agreements=[], **common).granted
        assert authorization_verdict(authority=keyless, authority_id="CL", **common).granted
