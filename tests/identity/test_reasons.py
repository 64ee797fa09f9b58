"""The reason codes (identity/reasons.py): the registry's choices are the
verifier package's list (merchant_verifier.reasons), so the API and the
package platforms verify with cannot disagree, and they are the codes of the
contract (DESIGN §5)."""

import re
from pathlib import Path

from identity.jose.algorithms import ALLOWED_ALGS, Alg
from identity.models import Assurance, KeyStatus
from identity.reasons import Reason, reason_label
from merchant_verifier.algorithms import ALGORITHMS
from merchant_verifier.model import KEY_COMPROMISED, LEVELS
from merchant_verifier.reasons import API_REASONS, PACKAGE_ONLY
from merchant_verifier.reasons import Reason as PackageReason

ROOT = Path(__file__).resolve().parents[2]


def test_reason_enum_holds_exactly_the_codes_of_the_contract():
    design = (ROOT / "docs/DESIGN.md").read_text()
    table = design.split("| reason code | rejected when |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in table.splitlines()[2:])))
    assert len(documented) == 27
    # credential_suspended is the one addition to DESIGN §5's table (README, "Reason codes").
    assert {str(reason) for reason in Reason} == documented | {"credential_suspended"}


def test_the_readme_lists_every_code_of_the_api():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z_]+)`(?: / `([a-z_]+)`)? \|", readme, re.MULTILINE))
    assert {code for pair in listed for code in pair if code} >= set(Reason.values)


def test_the_registrys_reasons_are_the_packages_in_order_with_their_labels():
    assert Reason.choices == [(code.value, code.label) for code in API_REASONS]
    assert [member.name for member in Reason] == [code.name for code in API_REASONS]
    assert Reason.CREDENTIAL_SUSPENDED.label == "The credential is suspended"
    # Right after credential_revoked, as in the contract's table.
    assert Reason.values.index("credential_suspended") == Reason.values.index("credential_revoked") + 1


def test_the_package_only_codes_are_not_the_apis():
    assert {str(code) for code in PACKAGE_ONLY} == {"lists_expired", "lists_unavailable"}
    assert not {"lists_expired", "lists_unavailable"} & set(Reason.values)
    assert set(Reason.values) | {str(code) for code in PACKAGE_ONLY} == {str(code) for code in PackageReason}


def test_a_package_code_is_a_registry_code_of_the_same_value():
    assert PackageReason.CREDENTIAL_REVOKED == Reason.CREDENTIAL_REVOKED
    assert Reason(PackageReason.EXPIRED) is Reason.EXPIRED


def test_reason_label_names_known_codes_and_shows_unknown_ones_as_they_are():
    assert reason_label("credential_suspended") == "The credential is suspended"
    assert reason_label("expired") == "exp is in the past"
    assert reason_label("retired_code") == "retired_code"
    assert reason_label("lists_expired") == "lists_expired"  # never in an audit row


def test_the_algorithm_choices_are_the_packages_allow_list():
    assert Alg.choices == list(ALGORITHMS)
    assert frozenset(Alg.values) == ALLOWED_ALGS
    assert (Alg.EDDSA, Alg.ES256, Alg.ES384, Alg.PS256, Alg.RS256) == ("EdDSA", "ES256", "ES384", "PS256", "RS256")


def test_the_packages_levels_and_key_status_are_the_models():
    assert tuple(Assurance.values) == LEVELS
    assert KeyStatus.COMPROMISED == KEY_COMPROMISED
