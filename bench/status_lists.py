"""A Token Status List of 1,000,000 credentials, 1 % revoked at random: its
signed size, the time to build it, and the cost of serving it unchanged
versus right after one revocation (part of `make bench`; alone:
`python -m bench.status_lists [--entries N] [--json]` on DATABASE_URL, a
migrated database; with no DATABASE_URL a throwaway SQLite file).

The rows are real IssuedCredential rows (inserted with executemany: the ORM's
bulk_create of a million rows takes about a minute on SQLite, the raw insert
a third of that), so the build timed is the registry's own:
recognition.services.status_lists.status_list_token with its cache empty:
one query for the entries that are not valid, the bits, zlib, the signature.
Serving goes through the WSGI handler (Django's test client), as a request
would: unchanged, it is a cache hit (one query for the list's version);
after a revocation the version has changed and the list is built again. The
served list after each revocation is decoded and the revoked index checked.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

BOUNDS = {"signed_kb": 300.0, "build_s": 1.0}


def _setup(database_url: str | None, scratch: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("REGISTRY_SIGNING_KEY", str(scratch / "registry.pem"))
    os.environ.setdefault("AUDIT_LOG_KEY", str(scratch / "audit.pem"))
    os.environ["AUDIT_INTEGRATOR"] = "off"
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{scratch / 'status.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    from recognition.services.registry_keys import load_signing_key

    load_signing_key(create=True)
    call_command("migrate", verbosity=0)


def _world() -> tuple[Any, Any, Any, Any]:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from django.utils import timezone

    from identity.jose.key_files import public_jwk_of
    from identity.models import CredentialType
    from identity.services.authorities import authority_create
    from identity.services.credentials import credential_type_create
    from identity.services.keys import key_register
    from identity.services.merchants import merchant_register

    suffix = f"{os.getpid()}-{random.randrange(10**9)}"
    authority = authority_create(country="CL", name="Status bench", issuer=f"https://status-bench.test/{suffix}")
    private_key = ed25519.Ed25519PrivateKey.generate()
    key = key_register(
        authority=authority, jwk=public_jwk_of(private_key), not_before=timezone.now() - timedelta(days=1)
    )
    merchant = merchant_register(authority=authority, registration_number=f"BENCH-{suffix}", legal_name="Bench SpA")
    credential_type = CredentialType.objects.filter(code="merchant-identity").first() or credential_type_create(
        code="merchant-identity", name="Merchant identity"
    )
    return merchant, key, credential_type, private_key


def _fill(entries: int, revoked_share: float, rng: random.Random) -> tuple[Any, float]:
    """A new list of STATUS_LIST_SIZE entries, `entries` of them given to
    credentials at random indices, `revoked_share` of those revoked."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from identity.models import StatusList

    merchant, key, credential_type, _ = _world()
    size = settings.STATUS_LIST_SIZE
    started = time.perf_counter()
    with transaction.atomic():
        StatusList.objects.filter(closed=False).update(closed=True)
        number = (StatusList.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        status_list = StatusList.objects.create(number=number, size=size, created_at=timezone.now())
        now = timezone.now()
        issued, expires = now, now + timedelta(days=365)
        indices = rng.sample(range(size), entries)
        revoked = set(rng.sample(range(entries), int(entries * revoked_share)))
        prefix = f"bench-{status_list.pk}-{os.getpid()}-"
        with connection.cursor() as cursor:
            for start in range(0, entries, 20_000):
                rows = [
                    (
                        f"{prefix}{i}",
                        "revoked" if i in revoked else "valid",
                        now if i in revoked else None,
                        indices[i],
                    )
                    for i in range(start, min(start + 20_000, entries))
                ]
                _insert(cursor, rows, (merchant.pk, key.pk, credential_type.pk, issued, expires, status_list.pk))
    return status_list, time.perf_counter() - started


_COLUMNS = (
    "INSERT INTO identity_issuedcredential (jti, status, revoked_at, status_index, merchant_id, key_id, "
    "credential_type_id, issued_at, expires_at, status_list_id, assurance, reason) "
)


def _insert(cursor: Any, rows: list[tuple], fixed: tuple) -> None:
    """One batch of rows: on PostgreSQL one INSERT ... SELECT FROM unnest (a
    statement a row would take half an hour for a million), elsewhere
    executemany."""
    if cursor.db.vendor == "postgresql":
        jtis, statuses, revoked_at, indices = (list(column) for column in zip(*rows, strict=True))
        cursor.execute(
            _COLUMNS + "SELECT j, s, r, i, %s, %s, %s, %s, %s, %s, 'low', '' "
            "FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::integer[]) AS t(j, s, r, i)",
            [*fixed, jtis, statuses, revoked_at, indices],
        )
    else:
        cursor.executemany(
            _COLUMNS + "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'low', '')", [row + fixed for row in rows]
        )


def _served(client: Any, url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    response = client.get(url, secure=True)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.content[:200]
    return elapsed, response.content


def measure(entries: int, revoked_share: float, rounds: int, seed: int) -> dict[str, Any]:
    import jwt
    from django.test import Client

    from identity.models import IssuedCredential
    from identity.services.credentials import credential_revoke
    from merchant_verifier.status_list import INVALID
    from merchant_verifier.status_list import StatusList as Decoded
    from recognition.services import status_lists as service

    rng = random.Random(seed)
    status_list, fill_s = _fill(entries, revoked_share, rng)
    builds = []
    for _ in range(rounds):
        service._current.clear()
        started = time.perf_counter()
        signed = service.status_list_token(status_list.number)
        builds.append(time.perf_counter() - started)
    client, url = Client(), f"/api/v1/status-lists/{status_list.number}/"
    _served(client, url)  # warm
    unchanged = [_served(client, url)[0] for _ in range(max(20, rounds * 5))]
    after_revocation, visible = [], True
    valid = IssuedCredential.objects.filter(status_list=status_list, status="valid")
    for credential in rng.sample(list(valid.order_by("?")[:100]), rounds):
        credential_revoke(credential=credential, reason="bench")
        elapsed, body = _served(client, url)
        after_revocation.append(elapsed)
        payload = jwt.decode(body, options={"verify_signature": False})
        visible &= Decoded.from_claim(payload["status_list"]).status(credential.status_index) == INVALID
    signed_kb = len(signed.token) / 1000
    build_s = statistics.median(builds)
    return {
        "entries": entries,
        "list_size": status_list.size,
        "revoked": int(entries * revoked_share),
        "fill_s": fill_s,
        "signed_kb": signed_kb,
        "build_s": build_s,
        "builds_s": builds,
        "unchanged_ms": statistics.median(unchanged) * 1000,
        "after_revocation_ms": statistics.median(after_revocation) * 1000,
        "revocation_visible": visible,
        "ratios": {
            "signed size / 300 KB": signed_kb / BOUNDS["signed_kb"],
            "build time / 1 s": build_s / BOUNDS["build_s"],
        },
        "serve_after_revocation_over_unchanged": statistics.median(after_revocation) / statistics.median(unchanged),
    }


def show(name: str, result: dict[str, Any]) -> None:
    """The figures as `make bench` prints them."""
    if "skipped" in result:
        print(f"\nStatus list, {name}: skipped: {result['skipped']}")
        return
    print(
        f"\nStatus list, {name}: {result['entries']:,} credentials in a list of {result['list_size']:,} entries, "
        f"{result['revoked']:,} revoked at random (rows inserted in {result['fill_s']:.1f} s)"
    )
    for label, ratio in result["ratios"].items():
        verdict = "PASS" if ratio <= 1 else "FAIL"
        print(f"  {label}: {ratio:.2f} {verdict}")
    print(
        f"  signed {result['signed_kb']:.1f} KB; built in {result['build_s'] * 1000:.0f} ms (median); served "
        f"unchanged {result['unchanged_ms']:.2f} ms, right after one revocation {result['after_revocation_ms']:.0f} "
        f"ms (ratio {result['serve_after_revocation_over_unchanged']:.0f}, informational); the revocation is in "
        f"the next list served: {'yes' if result['revocation_visible'] else 'NO'}"
    )


def gates(database: str, result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The bounds as `make bench` gates: figure / bound at most 1, and the
    revocation in the next list served."""
    if not result or "skipped" in result:
        return []
    found = [
        {"database": database, "data set": "status list", "gate": f"{label} <= 1", "passed": ratio <= 1,
         "detail": f"{ratio:.2f}"}
        for label, ratio in result["ratios"].items()
    ]  # fmt: skip
    found.append(
        {"database": database, "data set": "status list", "gate": "a revocation is in the next list served",
         "passed": bool(result["revocation_visible"]), "detail": f"{result['after_revocation_ms']:.0f} ms"}
    )  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--revoked", type=float, default=0.01, help="share revoked (default 0.01)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-status-") as scratch:
        _setup(os.environ.get("DATABASE_URL"), Path(scratch))
        result = measure(args.entries, args.revoked, args.rounds, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        show(os.environ.get("DATABASE_URL", "sqlite").split(":")[0], result)
    failed = not result["revocation_visible"] or any(ratio > 1 for ratio in result["ratios"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
