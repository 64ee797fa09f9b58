"""The recognition management commands (DESIGN §7): agreements, and
`verify_audit_log` on an empty log and as a script sees it (the log it
checks, made through the API: tests/api/test_audit_log.py; tampered with
in every way: tests/recognition/log/test_integrity.py). The users who
administer countries or audit them: tests/accounts/test_commands.py."""

import base64
import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from recognition.models import AgreementStatus, RecognitionAgreement
from tests.support.cli import call, manage

KZ_ISSUER = "https://egov-kz.test/issuer"


def agreement_args(*extra: str, issuer: str = KZ_ISSUER, legal_basis: str = "CN-KZ memorandum (2024)") -> list[str]:
    """China recognizing Kazakhstan's registry, which it does not yet."""
    return [
        "--destination", "CN", "--issuer", issuer, "--types", "merchant-identity", "--min-assurance", "low",
        "--legal-basis", legal_basis, *extra,
    ]  # fmt: skip


# create_agreement ---------------------------------------------------------


def test_create_agreement_prints_the_id_of_a_draft(world) -> None:
    before = timezone.now()

    out = call("create_agreement", *agreement_args())

    agreement = RecognitionAgreement.objects.get(pk=int(out.stdout))
    assert out.lines == [str(agreement.pk)]
    assert (agreement.destination.code, agreement.authority, agreement.status) == ("CN", world.kz.authority, "draft")
    assert list(agreement.credential_types.all()) == [world.merchant_identity]
    assert agreement.min_assurance == "low"
    assert agreement.legal_basis == "CN-KZ memorandum (2024)"
    assert before <= agreement.valid_from <= timezone.now()
    assert agreement.valid_until is None
    assert agreement.history.count() == 1


def test_create_agreement_activates_with_a_utc_window_and_several_types(world) -> None:
    out = call(
        "create_agreement",
        *agreement_args("--valid-from", "2026-03-01", "--valid-until", "2027-03-01T12:30:00Z", "--activate"),
        "--types", "merchant-identity, export-licence,merchant-identity", "--destination", "cn",
    )  # fmt: skip

    agreement = RecognitionAgreement.objects.get(pk=int(out.stdout))
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.destination.code == "CN"
    assert agreement.valid_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert agreement.valid_until == datetime(2027, 3, 1, 12, 30, tzinfo=UTC)
    assert set(agreement.credential_types.values_list("code", flat=True)) == {"merchant-identity", "export-licence"}


def test_create_agreement_refuses_an_exact_duplicate_naming_the_existing_agreement(world) -> None:
    args = agreement_args("--valid-from", "2026-03-01")
    first = int(call("create_agreement", *args).stdout)

    for _ in range(2):
        with pytest.raises(CommandError, match=rf"^agreement {first} \(draft\) already has these terms for"):
            call("create_agreement", *args)

    assert RecognitionAgreement.objects.filter(authority__issuer=KZ_ISSUER).count() == 1


def test_create_agreement_refuses_activation_without_legal_basis(world) -> None:
    with pytest.raises(CommandError, match="cannot be activated without a legal basis"):
        call("create_agreement", *agreement_args("--activate", legal_basis="   "))

    assert not RecognitionAgreement.objects.filter(authority=world.kz.authority).exists()


def test_create_agreement_refuses_unknown_credential_type_naming_it(world) -> None:
    with pytest.raises(CommandError, match="no credential type 'tax-id'"):
        call("create_agreement", *agreement_args("--types", "merchant-identity,tax-id"))

    assert not RecognitionAgreement.objects.filter(authority=world.kz.authority).exists()


def test_create_agreement_refuses_an_empty_type_list(world) -> None:
    with pytest.raises(CommandError, match="--types: give at least one code"):
        call("create_agreement", *agreement_args("--types", " , "))


@pytest.mark.parametrize("code", ["XX", "ZZ"])
def test_create_agreement_refuses_unknown_destination_country(world, code) -> None:
    with pytest.raises(CommandError, match=f"--destination: '{code}' is not an ISO 3166-1 alpha-2 country code"):
        call("create_agreement", *agreement_args("--destination", code))


def test_create_agreement_refuses_unknown_issuer(world) -> None:
    with pytest.raises(CommandError, match="no authority has issuer 'https://nobody.test'"):
        call("create_agreement", *agreement_args(issuer="https://nobody.test"))


@pytest.mark.parametrize("value", ["01/03/2026", "2026-02-30", "2026-03-01T25:00:00Z", "next monday", "20260301"])
def test_create_agreement_refuses_a_date_that_does_not_parse(world, value) -> None:
    with pytest.raises(CommandError, match=r"argument --valid-from: '.*' is not (an ISO 8601 date|a valid date)"):
        call("create_agreement", *agreement_args("--valid-from", value))

    assert not RecognitionAgreement.objects.filter(authority=world.kz.authority).exists()


def test_create_agreement_refuses_a_non_utc_offset(world) -> None:
    with pytest.raises(CommandError, match="argument --valid-until: .* has a non-UTC offset; give the time in UTC"):
        call("create_agreement", *agreement_args("--valid-until", "2027-03-01T08:00:00+08:00"))


def test_create_agreement_accepts_an_explicit_zero_offset(world) -> None:
    out = call("create_agreement", *agreement_args("--valid-from", "2026-03-01T08:00:00+00:00"))

    assert RecognitionAgreement.objects.get(pk=int(out.stdout)).valid_from == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_create_agreement_refuses_a_window_that_ends_before_it_starts(world) -> None:
    with pytest.raises(CommandError, match="valid_until must be after valid_from"):
        call("create_agreement", *agreement_args("--valid-from", "2026-03-01", "--valid-until", "2026-03-01"))


def test_create_agreement_refuses_a_domestic_agreement(world) -> None:
    with pytest.raises(CommandError, match="domestic trust needs no agreement"):
        call("create_agreement", *agreement_args(issuer=world.cn.authority.issuer))


# set_agreement_status -----------------------------------------------------


def test_set_agreement_status_suspends_and_reactivates(world) -> None:
    agreement = world.cn_recognizes_cl

    call("set_agreement_status", agreement.pk, "suspended")
    assert RecognitionAgreement.objects.get(pk=agreement.pk).status == AgreementStatus.SUSPENDED
    out = call("set_agreement_status", agreement.pk, "active")

    assert RecognitionAgreement.objects.get(pk=agreement.pk).status == AgreementStatus.ACTIVE
    assert out.stdout == ""
    assert agreement.history.count() == 3


def test_set_agreement_status_refuses_to_reopen_a_terminated_agreement(world) -> None:
    call("set_agreement_status", world.cn_recognizes_cl.pk, "terminated")

    with pytest.raises(
        CommandError, match=f"agreement {world.cn_recognizes_cl.pk} cannot go from terminated to active"
    ):
        call("set_agreement_status", world.cn_recognizes_cl.pk, "active")


def test_set_agreement_status_refuses_to_activate_a_draft_without_legal_basis(world) -> None:
    draft = int(call("create_agreement", *agreement_args(legal_basis="")).stdout)

    with pytest.raises(CommandError, match="cannot be activated without a legal basis"):
        call("set_agreement_status", draft, "active")

    assert RecognitionAgreement.objects.get(pk=draft).status == AgreementStatus.DRAFT


def test_set_agreement_status_refuses_unknown_id_and_draft(world) -> None:
    with pytest.raises(CommandError, match="no agreement with id 999999"):
        call("set_agreement_status", 999999, "active")
    with pytest.raises(CommandError, match="argument ID: invalid int value: 'first'"):
        call("set_agreement_status", "first", "active")
    with pytest.raises(CommandError, match="invalid choice: 'draft'"):
        call("set_agreement_status", world.cn_recognizes_cl.pk, "draft")


# verify_audit_log -------------------------------------------------------


def test_verify_audit_log_finds_an_empty_log_intact(db):
    empty_root = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert call("verify_audit_log").stdout == f"audit log intact: 0 leaves, root {empty_root}\n"


def root_of(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1's tree hash, written out again."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + root_of(leaves[:split]) + root_of(leaves[split:])).digest()


def test_verify_audit_log_exit_status_and_one_line_error(tmp_path: Path):
    database = tmp_path / "registry.sqlite3"
    assert manage(database, "migrate", "--no-input", "-v", "0").returncode == 0
    script = (
        "from django.utils import timezone\n"
        "from recognition.log.integrator import integrate_all\n"
        "from recognition.services.audit import AuditEntry, record_decisions\n"
        "entry = dict(client='cli', destination='CN', origin='', declared_origin='', issuer='', kid='',"
        " subject='', jti='', token_sha256='0' * 64, decision='rejected', reasons=['malformed_token'],"
        " agreement_id=None, agreement_version=None)\n"
        "record_decisions([AuditEntry(**entry)] * 3, at=timezone.now())\n"
        "integrate_all()\n"
    )
    assert manage(database, "shell", "-c", script).returncode == 0
    with sqlite3.connect(database) as db:
        leaves = [bytes(row[0]) for row in db.execute("SELECT leaf_hash FROM recognition_logentry ORDER BY seq")]
    db.close()

    intact = manage(database, "verify_audit_log")
    assert (intact.returncode, intact.stderr) == (0, "")
    assert intact.stdout == f"audit log intact: 3 leaves, root {base64.b64encode(root_of(leaves)).decode()}\n"

    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE recognition_verification SET decision = 'accepted', reasons = '[]' "
            "WHERE id = (SELECT id FROM recognition_logentry WHERE seq = 1)"
        )
    db.close()
    broken = manage(database, "verify_audit_log")
    assert broken.returncode != 0
    assert (broken.stdout, "Traceback" in broken.stderr) == ("", False)
    (line,) = broken.stderr.splitlines()
    assert line.startswith("error: audit log broken at leaf 1: ") and "its decision row differs from the entry" in line
