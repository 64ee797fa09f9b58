"""A fork shown up by a witness (DESIGN §11): the registry's log is rolled
back after a witness cosigned it (a backup restored), different entries are
appended and checkpointed, and the witness, which remembers what it
cosigned, refuses; the registry records a split view with both sizes, logs
it at ERROR, and shows it to regulators. The witness comes from the
`witness_endpoint` fixture, (url, vkey), so that the same test runs against
the witness a partner runs."""

import logging

import pytest

from accounts.services import api_key_create
from recognition.log.pusher import COSIGNED, push_latest
from recognition.models import Checkpoint, Cosignature, WitnessEvent, WitnessOutcome
from recognition.services.witnesses import witness_add
from tests.support.api import keyed
from tests.support.log_api import LOG, grow, restore_to


@pytest.mark.parametrize(
    ("appended", "status"),
    [(2, 409), (9, 422)],  # 409: it cosigned a larger tree; 422: ours does not extend what it cosigned
)
def test_a_rolled_back_log_is_a_split_view_that_regulators_see(
    db, settings, witness_endpoint, caplog, appended, status
):
    url, vkey = witness_endpoint
    name = vkey.split("+", 1)[0]
    witness_add(name=name, country="CL", url=url, vkey=vkey)
    kept = grow(settings, decisions=3)
    assert [o.outcome for o in push_latest()] == [COSIGNED]
    cosigned = grow(settings, decisions=4)
    assert [o.outcome for o in push_latest()] == [COSIGNED]

    restore_to(kept)
    assert Checkpoint.objects.order_by("-size").first().size == kept
    forked = grow(settings, decisions=appended)
    with caplog.at_level(logging.ERROR, logger="recognition.log.pusher"):
        outcomes = push_latest()

    assert [(o.outcome, o.http_status) for o in outcomes] == [(WitnessOutcome.SPLIT_VIEW, status)]
    assert not Cosignature.objects.filter(checkpoint__size=forked).exists()
    event = WitnessEvent.objects.get()
    assert event.size == forked and event.witness_size == cosigned
    assert any(r.levelno == logging.ERROR and name in r.message and "split_view" in r.message for r in caplog.records)

    regulator = keyed(api_key_create(name="market-regulator", role="regulator")[1])
    listed = regulator.get(f"{LOG}witnesses").json()
    assert [w["name"] for w in listed] == [name]
    split = listed[0]["split_view"]
    assert (split["outcome"], split["size"], split["witness_size"]) == ("split_view", forked, cosigned)
    assert listed[0]["last_cosigned"]["size"] == kept  # the later cosignature went with the rollback
