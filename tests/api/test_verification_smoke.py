from recognition.models import Verification
from tests.support.tokens import sign


def test_accepts_chilean_credential_in_china(world, api):
    response = api.verify(sign(world.cl), "CN", "CL")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decision"] == "accepted", body
    assert Verification.objects.count() == 1
