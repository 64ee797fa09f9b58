"""GET /api/v1/audit/log/witnesses (DESIGN §11): regulators (key or
session) see every witness with its status; other keys, other staff and no
key at all are refused."""

from rest_framework.test import APIClient

from recognition.log.pusher import push_latest
from recognition.services.witnesses import witness_add, witness_retire
from tests.support.api import keyed, session
from tests.support.log_api import LOG, grow
from tests.support.witness import Misbehaviour

URL = f"{LOG}witnesses"


def test_regulators_see_each_witness_with_its_last_cosignature_and_last_refusal(
    world, settings, regulator, start_test_witness
):
    good, bad = start_test_witness("witness.cl.test/w1"), start_test_witness("witness.kz.test/w2")
    bad.witness.misbehave = Misbehaviour(status=403, body=b"no trusted signature")
    witness_add(name=good.witness.name, country="CL", url=good.url, vkey=good.witness.vkey)
    retired = witness_add(name=bad.witness.name, country="KZ", url=bad.url, vkey=bad.witness.vkey)
    size = grow(settings, decisions=2)
    push_latest()
    witness_retire(witness=retired)

    response = regulator.get(URL)
    assert response.status_code == 200
    first, second = response.json()
    assert first["name"] == "witness.cl.test/w1" and first["active"] is True and first["country"] == "CL"
    assert first["vkey"] == good.witness.vkey and first["url"] == good.url
    assert first["last_cosigned"]["size"] == size and first["last_refusal"] is None and first["split_view"] is None
    assert second["active"] is False and second["retired_at"] is not None and second["last_cosigned"] is None
    refusal = second["last_refusal"]
    assert (refusal["outcome"], refusal["http_status"], refusal["size"]) == ("refused", 403, size)
    assert "no trusted signature" in refusal["reason"]


def test_a_regulators_session_may_read_it(world):
    assert session(world.rita).get(URL).status_code == 200


def test_platform_keys_country_administrators_and_anonymous_callers_are_refused(world, platform_key):
    assert keyed(platform_key).get(URL).status_code == 403
    assert session(world.alice).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)
