"""The benchmark's registry, generated in bulk: COPY on PostgreSQL, one
executemany transaction on SQLite, straight into the tables (the services
would take hours for a million merchants).

150 countries, 1,000 authorities (one Ed25519 key each), 5,000 agreements
(each authority recognized by the next five countries, active, for
merchant-identity, with their history row), and N merchants spread over the
authorities, one in ten with a registry-issued credential. Everything is
derived from the index, so a token can be signed for any merchant without
reading the database. Generated values contain no tab, newline or backslash
(COPY's text format is written without escaping).
"""

import base64
import hashlib
import io
import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import connection, transaction
from django_countries import countries

from identity.jose.jwk import thumbprint

COUNTRIES = 150
AUTHORITIES = 1_000
AGREEMENTS_PER_AUTHORITY = 5
SMALL_MERCHANTS = 1_000
SCALE_MERCHANTS = 1_000_000
CREDENTIAL_EVERY = 10
TYP = "merchant-credential+jwt"
CHUNK = 100_000


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Authority:
    index: int
    country: str
    issuer: str
    private_key: ed25519.Ed25519PrivateKey
    jwk: dict[str, str]
    kid: str
    destinations: tuple[str, ...]

    @property
    def id(self) -> int:
        return self.index + 1


@dataclass(frozen=True)
class Token:
    token: str
    destination: str
    public_key: ed25519.Ed25519PublicKey
    signing_input: bytes
    signature: bytes

    def body(self) -> bytes:
        return json.dumps({"token": self.token, "destination": self.destination}).encode()


def country_codes() -> list[str]:
    return sorted(code for code, _ in countries)[:COUNTRIES]


def make_authorities() -> list[Authority]:
    codes = country_codes()
    made = []
    for index in range(AUTHORITIES):
        seed = hashlib.sha256(f"bench-authority-key-{index}".encode()).digest()
        private_key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
        home = index % COUNTRIES
        destinations = tuple(codes[(home + step) % COUNTRIES] for step in range(1, AGREEMENTS_PER_AUTHORITY + 1))
        made.append(
            Authority(
                index=index,
                country=codes[home],
                issuer=f"https://authority-{index}.bench.example/issuer",
                private_key=private_key,
                jwk=jwk,
                kid=thumbprint(jwk),
                destinations=destinations,
            )
        )
    return made


def authority_of(merchant: int, merchants: int) -> int:
    """The index of the authority of merchant `merchant` of `merchants`:
    contiguous blocks, so that every index is filled in order."""
    return merchant * AUTHORITIES // merchants


def registration_number(merchant: int) -> str:
    return f"BR-{merchant:07d}"


def legal_name(merchant: int) -> str:
    return f"Bench merchant {merchant} Trading Ltd"


def credential_jti(merchant: int) -> str:
    return f"bench-credential-{merchant:07d}"


class Loader:
    """Rows into a table, as fast as the database takes them."""

    def __init__(self) -> None:
        self.vendor = connection.vendor

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat() if self.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dict):
            return json.dumps(value)
        return value

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        """Every row's values are of the same types as the first row's."""
        rows = iter(rows)
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB while loading
            while chunk := list(islice(rows, CHUNK)):
                if any(isinstance(value, datetime | dict | bool) or value is None for value in chunk[0]):
                    chunk = [tuple(map(self._adapted, row)) for row in chunk]
                if self.vendor == "postgresql":
                    buffer = io.StringIO("".join("\t".join(map(str, row)) + "\n" for row in chunk))
                    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
                else:
                    marks = ", ".join("?" * len(columns))
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (our names)
                    cursor.connection.executemany(sql, chunk)
            if self.vendor == "sqlite":
                cursor.execute("PRAGMA cache_size = -2000")  # SQLite's default again, as the servers' connections

    def _adapted(self, value: Any) -> Any:
        value = self.value(value)
        if self.vendor != "postgresql":
            return value
        if value is None:
            return "\\N"
        return ("t" if value else "f") if isinstance(value, bool) else value

    def advance_sequences(self, tables: Iterable[str]) -> None:
        if self.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id by itself
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )


def create_registry(authorities: list[Authority], *, now: datetime) -> None:
    """Countries' authorities, keys, credential types and agreements."""
    loader = Loader()
    year_ago = now - timedelta(days=365)
    with transaction.atomic():
        loader.load(
            "identity_authority",
            ("id", "country", "name", "issuer", "status", "max_assurance", "created_at", "updated_at"),
            (
                (a.id, a.country, f"Bench authority {a.index}", a.issuer, "active", "high", now, now)
                for a in authorities
            ),
        )
        loader.load(
            "identity_authoritykey",
            ("id", "authority_id", "kid", "alg", "public_jwk", "status", "not_before", "created_at"),
            ((a.id, a.id, a.kid, "EdDSA", a.jwk, "active", year_ago, now) for a in authorities),
        )
        loader.load(
            "identity_credentialtype",
            ("id", "code", "name", "description"),
            [(1, "merchant-identity", "Merchant identity", ""), (2, "export-licence", "Export licence", "")],
        )
        agreements = [
            (a.index * AGREEMENTS_PER_AUTHORITY + n + 1, destination, a)
            for a in authorities
            for n, destination in enumerate(a.destinations)
        ]
        fields = ("destination", "origin", "min_assurance", "valid_from", "status", "legal_basis")
        fields += ("reference_url", "notes", "created_at", "updated_at", "authority_id")

        def values(pk: int, destination: str, a: Authority) -> tuple:
            return (destination, a.country, "low", year_ago, "active", f"Bench memorandum {pk}", "", "", now, now, a.id)

        loader.load(
            "recognition_recognitionagreement", ("id", *fields), ((pk, *values(pk, d, a)) for pk, d, a in agreements)
        )
        loader.load(
            "recognition_recognitionagreement_credential_types",
            ("id", "recognitionagreement_id", "credentialtype_id"),
            ((pk, pk, 1) for pk, _, _ in agreements),
        )
        loader.load(
            "recognition_historicalrecognitionagreement",
            ("id", *fields, "history_id", "history_date", "history_type", "history_operator"),
            ((pk, *values(pk, d, a), pk, now, "+", "bench data set") for pk, d, a in agreements),
        )
        loader.load(
            "recognition_historicalrecognitionagreement_credential_types",
            ("id", "m2m_history_id", "credentialtype_id", "history_id", "recognitionagreement_id"),
            ((pk, pk, 1, pk, pk) for pk, _, _ in agreements),
        )
        loader.advance_sequences(
            [
                "identity_authority",
                "identity_authoritykey",
                "identity_credentialtype",
                "recognition_recognitionagreement",
                "recognition_recognitionagreement_credential_types",
            ]
        )


def add_merchants(merchants: int, *, now: datetime) -> None:
    """`merchants` merchants, spread evenly over the authorities, and the
    registry-issued credentials of one in ten."""
    loader = Loader()
    at = loader.value(now)  # adapted once, not a million times
    with transaction.atomic():
        loader.load(
            "identity_merchant",
            ("id", "authority_id", "registration_number", "legal_name", "lei", "status", "assurance")
            + ("created_at", "updated_at"),
            (
                (m + 1, authority_of(m, merchants) + 1, registration_number(m), legal_name(m), "", "active")
                + ("substantial", at, at)
                for m in range(merchants)
            ),
        )
        issued, expires = loader.value(now - timedelta(days=1)), loader.value(now + timedelta(days=300))
        loader.load(
            "identity_issuedcredential",
            ("id", "jti", "assurance", "issued_at", "expires_at", "status", "reason")
            + ("credential_type_id", "key_id", "merchant_id"),
            (
                (m // CREDENTIAL_EVERY + 1, credential_jti(m), "substantial", issued, expires, "valid", "", 1)
                + (authority_of(m, merchants) + 1, m + 1)
                for m in range(0, merchants, CREDENTIAL_EVERY)
            ),
        )
        loader.advance_sequences(["identity_merchant", "identity_issuedcredential"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def sign(authority: Authority, claims: dict[str, Any]) -> tuple[str, bytes, bytes]:
    header = {"alg": "EdDSA", "typ": TYP, "kid": authority.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}".encode()
    signature = authority.private_key.sign(signing_input)
    return f"{signing_input.decode()}.{b64url(signature)}", signing_input, signature


def claims_for(authority: Authority, merchant: int, *, now: int, rng: random.Random) -> dict[str, Any]:
    number = registration_number(merchant)
    registry_issued = merchant % CREDENTIAL_EVERY == 0
    return {
        "iss": authority.issuer,
        "sub": number,
        "jti": credential_jti(merchant) if registry_issued else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 86_400,
        "credential_type": "merchant-identity",
        "assurance": "substantial",
        "merchant": {"legal_name": legal_name(merchant), "registration_number": number, "country": authority.country},
    }


def tokens(authorities: list[Authority], merchants: int, count: int, *, now: int, seed: int) -> list[Token]:
    """`count` credentials of merchants drawn at random among the first
    `merchants`, each presented in a country whose agreement recognizes its
    authority: every one is to be accepted."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        merchant = rng.randrange(merchants)
        authority = authorities[authority_of(merchant, merchants)]
        token, signing_input, signature = sign(authority, claims_for(authority, merchant, now=now, rng=rng))
        destination = rng.choice(authority.destinations)
        made.append(Token(token, destination, authority.private_key.public_key(), signing_input, signature))
    return made


def tampered(token: Token) -> Token:
    """The same credential with one claim changed after signing."""
    header, payload, signature = token.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["merchant"]["legal_name"] += " (forged)"
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    return Token(forged, token.destination, token.public_key, token.signing_input, token.signature)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The audit log -------------------------------------------------------------------------------

LOG_CLIENT = "bench-platform"  # the API key the workers create: it may ask for its decisions' proofs


def log_rows(start: int, count: int, *, authorities: list[Authority], merchants: int, since: datetime) -> Iterator:
    """(entry, Verification values) of decisions start .. start + count - 1:
    acceptances of random merchants under their authority's agreements, a
    second apart from `since`, with the exact bytes record_decisions writes."""
    from recognition.log.entries import DECISION_FIELDS, decision_entry

    rng = random.Random(start)
    for n in range(start, start + count):
        merchant = rng.randrange(merchants)
        authority = authorities[authority_of(merchant, merchants)]
        step = rng.randrange(AGREEMENTS_PER_AUTHORITY)
        agreement = authority.index * AGREEMENTS_PER_AUTHORITY + step + 1
        fields = {
            "client": LOG_CLIENT,
            "destination": authority.destinations[step],
            "origin": authority.country,
            "declared_origin": "",
            "issuer": authority.issuer,
            "kid": authority.kid,
            "subject": registration_number(merchant),
            "jti": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "token_sha256": f"{rng.getrandbits(256):064x}",
            "decision": "accepted",
            "reasons": [],
            "agreement_id": agreement,
            "agreement_version": agreement,  # the agreement's history row (create_registry)
        }
        at = since + timedelta(seconds=n)
        entry_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        yield decision_entry(entry_id, at, {name: fields[name] for name in DECISION_FIELDS}), fields


def load_log(
    count: int, *, authorities: list[Authority], merchants: int, now: datetime, integrated: bool, chunk: int = CHUNK
) -> dict[str, float]:
    """`count` decision entries with their decision rows, straight into the
    tables (COPY on PostgreSQL). `integrated`: numbered after the leaves the
    log has and placed in the tree's tiles (recognition/log/tree.py append, a
    chunk at a time), the state moved on, and a checkpoint signed (the
    integrator's, which then finds nothing to place); otherwise left pending
    for the integrator. Returns the seconds each step took."""
    from recognition.log import tree
    from recognition.log.integrator import integrate
    from recognition.log.tiles import TileCache
    from recognition.models import LogEntry, LogState

    loader = Loader()
    postgres = loader.vendor == "postgresql"
    timings = {"generate_s": 0.0, "load_s": 0.0, "tiles_s": 0.0}
    state = LogState.objects.filter(id=1).first()
    size = state.size if state is not None else 0
    base = LogEntry.objects.count()  # a second load draws other ids
    since = now - timedelta(seconds=base + count + 3600)
    leaves: list[bytes] = []

    def blob(value: bytes) -> Any:
        return "\\\\x" + value.hex() if postgres else value

    with transaction.atomic():
        for start in range(0, count, chunk):
            began = time.perf_counter()
            entries, rows = [], []
            for entry, fields in log_rows(
                base + start, min(chunk, count - start), authorities=authorities, merchants=merchants, since=since
            ):
                seq = size + start + len(entries) if integrated else None
                at = loader.value(entry.created_at)
                key = str(entry.id) if postgres else entry.id.hex
                entries.append((key, "decision", at, blob(entry.body), blob(entry.leaf_hash), seq))
                rows.append(
                    (key, at, *(fields[name] for name in VERIFICATION_COLUMNS[2:-3]), "[]")
                    + (fields["agreement_id"], fields["agreement_version"])
                )
                leaves.append(entry.leaf_hash)
            timings["generate_s"] += time.perf_counter() - began
            began = time.perf_counter()
            loader.load("recognition_logentry", LOG_COLUMNS, entries)
            loader.load("recognition_verification", VERIFICATION_COLUMNS, rows)
            timings["load_s"] += time.perf_counter() - began
        if integrated and leaves:
            began = time.perf_counter()
            tiles = TileCache()
            for start in range(0, len(leaves), chunk):
                tiles.write(tree.append(size + start, leaves[start : start + chunk], tiles.read))
            size += len(leaves)
            LogState.objects.update_or_create(
                id=1, defaults={"size": size, "root": tree.tree_root(size, tiles.read), "updated_at": now}
            )
            timings["tiles_s"] = time.perf_counter() - began
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE recognition_logentry")
            cursor.execute("ANALYZE recognition_verification")
    if integrated:
        integrate()  # signs the checkpoint of the new size
    return timings


LOG_COLUMNS = ("id", "kind", "created_at", "body", "leaf_hash", "seq")
VERIFICATION_COLUMNS = (
    "id", "created_at", "client", "destination", "origin", "declared_origin", "issuer", "kid", "subject", "jti",
    "token_sha256", "decision", "reasons", "agreement_id", "agreement_version",
)  # fmt: skip
