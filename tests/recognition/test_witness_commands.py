"""`manage.py add_witness` and `retire_witness`: the service's rules, one
line of error on bad input, nothing written then."""

import pytest
from django.core.management.base import CommandError

from recognition.models import Witness
from tests.recognition.services.test_witnesses import NAME, witness_vkey
from tests.support.cli import call


def add_args(**overrides: str) -> list[str]:
    options = {"--country": "CL", "--url": "https://witness.cl.test", "--vkey": witness_vkey(), **overrides}
    return [NAME] + [part for option in options.items() for part in option]


def test_add_witness_registers_it_and_prints_its_name(db):
    out = call("add_witness", *add_args())
    assert out.stdout == f"{NAME}\n"
    witness = Witness.objects.get()
    assert (witness.country.code, witness.url, witness.active) == ("CL", "https://witness.cl.test", True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"--url": "http://witness.cl.test"}, "loopback"),
        ({"--country": "XX"}, "--country"),
        ({"--vkey": witness_vkey("someone.else/w")}, "vkey's key name"),
        ({"--vkey": "garbage"}, "not a signed-note vkey"),
    ],
)
def test_add_witness_refuses_bad_input_in_one_line_and_writes_nothing(db, overrides, message):
    with pytest.raises(CommandError) as refused:
        call("add_witness", *add_args(**overrides))
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not Witness.objects.exists()


def test_retire_witness_retires_it_and_refuses_an_unknown_or_retired_one(db):
    call("add_witness", *add_args())
    call("retire_witness", NAME)
    assert Witness.objects.get().retired_at is not None
    with pytest.raises(CommandError, match="retired already"):
        call("retire_witness", NAME)
    with pytest.raises(CommandError, match="no witness is named 'nobody'"):
        call("retire_witness", "nobody")
