"""The witnesses in the admin (DESIGN §11): the superuser registers and
retires them; a regulator views them and their status (last cosigned, last
refusal, split view, recent events) and changes nothing; a country
administrator sees nothing of them."""

from datetime import UTC

from django.urls import reverse

from recognition.models import Witness, WitnessEvent, WitnessOutcome
from recognition.services.witnesses import witness_add
from tests.recognition.services.test_witnesses import NAME, witness_vkey
from tests.support.admin import add_url, change_url, changelist_url, client_for, confirm_action, form_errors


def a_witness() -> Witness:
    return witness_add(name=NAME, country="CL", url="https://witness.cl.test", vkey=witness_vkey())


def form(**overrides: str) -> dict[str, str]:
    return {"name": NAME, "country": "CL", "url": "https://witness.cl.test", "vkey": witness_vkey(), **overrides}


def test_the_superuser_registers_a_witness_with_history(world):
    response = client_for(world.root).post(add_url(Witness), form())
    assert response.status_code == 302, form_errors(response)
    witness = Witness.objects.get()
    assert witness.history.get().history_user == world.root


def test_a_bad_witness_is_a_form_error_and_nothing_is_written(world):
    response = client_for(world.root).post(add_url(Witness), form(url="http://witness.cl.test"))
    assert response.status_code == 200 and "loopback" in form_errors(response)
    assert not Witness.objects.exists()


def test_the_superuser_retires_a_witness_by_the_action(world):
    witness = a_witness()
    confirm_action(client_for(world.root), Witness, "retire", [witness])
    assert Witness.objects.get().retired_at is not None


def test_the_admin_index_lists_witnesses_for_the_superuser_and_the_regulator(world):
    for user in (world.root, world.rita):
        assert "Witnesses" in client_for(user).get(reverse("admin:index")).content.decode()


def test_a_regulator_views_witnesses_and_their_split_view_and_changes_nothing(world):
    witness = a_witness()
    WitnessEvent.objects.create(
        witness=witness, size=7, outcome=WitnessOutcome.SPLIT_VIEW, http_status=409, witness_size=9,
        reason="it cosigned size 9, beyond this log's size 7", created_at=witness.created_at,
    )  # fmt: skip
    client = client_for(world.rita)
    listing = client.get(changelist_url(Witness))
    assert listing.status_code == 200 and NAME in listing.content.decode()
    assert "SPLIT VIEW at size 7" in listing.content.decode()
    # Its instant as every admin instant: UTC with seconds, marked for local time.
    marked = witness.created_at.astimezone(UTC)
    assert f'data-instant="{marked:%Y-%m-%dT%H:%M:%SZ}"><span class="nowrap">{marked:%Y-%m-%d}</span>' in (
        listing.content.decode()
    )
    page = client.get(change_url(witness))
    assert page.status_code == 200 and "beyond this log&#x27;s size 7" in page.content.decode()
    assert client.get(add_url(Witness)).status_code == 403
    assert client.post(add_url(Witness), form(name="witness.cl.test/w2")).status_code == 403
    confirm_action(client, Witness, "retire", [witness])
    assert Witness.objects.get().retired_at is None


def test_a_country_administrator_sees_nothing_of_witnesses(world):
    witness = a_witness()
    client = client_for(world.bob)  # Chile's administrator, and the witness is Chile's
    assert client.get(changelist_url(Witness)).status_code == 403
    assert client.get(change_url(witness)).status_code in (302, 403, 404)
    assert client.get(add_url(Witness)).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200 and "Recognition agreements" in index.content.decode()
    assert "Witnesses" not in index.content.decode()
    confirm_action(client, Witness, "retire", [witness])
    assert Witness.objects.get().retired_at is None
