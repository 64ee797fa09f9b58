"""bench.status_lists on a small list: the figures it reports are measured
on real rows, and a revocation shows in the next list served."""

import pytest

from bench import status_lists
from recognition.services.registry_keys import registry_key_rotate


@pytest.mark.django_db
def test_measures_a_small_list_and_sees_each_revocation(settings, tmp_path, capsys):
    settings.REGISTRY = {**settings.REGISTRY, "SIGNING_KEY_PATH": str(tmp_path / "k.pem")}
    settings.STATUS_LIST_SIZE = 4096
    registry_key_rotate()
    result = status_lists.measure(entries=400, revoked_share=0.05, rounds=2, seed=1)
    assert result["revoked"] == 20
    assert result["revocation_visible"] is True
    assert 0 < result["signed_kb"] < 300
    assert set(result["ratios"]) == {"signed size / 300 KB", "build time / 1 s"}
    gates = status_lists.gates("sqlite", result)
    assert [gate["passed"] for gate in gates] == [True, True, True]
    status_lists.show("sqlite", result)
    shown = capsys.readouterr().out
    assert "build time / 1 s" in shown and "in the next list served: yes" in shown


def test_gates_fail_when_a_bound_is_missed():
    result = {
        "ratios": {"signed size / 300 KB": 1.2, "build time / 1 s": 0.5},
        "revocation_visible": False,
        "after_revocation_ms": 10.0,
    }
    assert [gate["passed"] for gate in status_lists.gates("sqlite", result)] == [False, True, False]
    assert status_lists.gates("sqlite", {"skipped": "no database"}) == []
