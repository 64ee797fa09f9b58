"""A stand-in for the registry's public endpoints, for the verifier's tests:
its key and JWKS, lists signed as spec.md and DESIGN §10 describe them (or
as a hostile server would), served by a small HTTP server on 127.0.0.1 with
ETags and conditional requests, and credentials signed by the authorities
it lists.

World: destination CN trusts its own authority (domestic) and Chile's
business registry under agreement 7 (merchant-identity, substantial and
above, since 2025-01-01).
"""

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from merchant_verifier.status_list import encode_lst, new_list, set_status

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ISSUER = "https://registry.example"
CL_ISSUER = "https://rut.example.cl/registry"
CN_ISSUER = "https://samr.example.cn/registry"
STATUS_LIST_SIZE = 64
LIST_LIFETIME = 86_400
TTL = 300


def public_jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Served:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class Registry:
    """The documents by path; `requests` records (path, If-None-Match)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid, self.alg = "registry-1", "ES256"
        self.jwks_keys = [public_jwk(self.key, self.kid, self.alg)]
        self.cl_key = ed25519.Ed25519PrivateKey.generate()
        self.cn_key = ed25519.Ed25519PrivateKey.generate()
        self.documents: dict[str, Served] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.down = False
        self.statuses = new_list(STATUS_LIST_SIZE)
        self.merchants: list[dict[str, str]] = []
        self.revoked_credentials: list[dict[str, str]] = []
        self.agreement_until: str | None = None
        self.publish()

    # Signing ------------------------------------------------------------------------------

    def sign(self, payload: dict[str, Any], typ: str, *, key: Any = None, kid: str | None = None,
             alg: str | None = None) -> bytes:  # fmt: skip
        headers = {"kid": kid or self.kid, "typ": typ}
        return jwt.encode(payload, key or self.key, algorithm=alg or self.alg, headers=headers).encode()

    def times(self, lifetime: int = LIST_LIFETIME) -> dict[str, int]:
        iat = int(self.clock.now.timestamp())
        return {"iat": iat, "exp": iat + lifetime}

    def authority_keys(self, private_key: Any, kid: str, **changes: Any) -> dict[str, Any]:
        return {
            **public_jwk(private_key, kid, "EdDSA"),
            "status": "active",
            "not_before": "2025-01-01T00:00:00Z",
            "not_after": None,
            "retired_at": None,
            "compromised_at": None,
            **changes,
        }

    def trust_list_payload(self) -> dict[str, Any]:
        return {
            "iss": ISSUER,
            "sub": "CN",
            **self.times(),
            "sequence": 3,
            "authorities": [
                {
                    "issuer": CN_ISSUER,
                    "name": "State Administration for Market Regulation",
                    "country": "CN",
                    "status": "active",
                    "max_assurance": "high",
                    "jwks": {"keys": [self.authority_keys(self.cn_key, "cn-1")]},
                    "recognized_for": [],
                },
                {
                    "issuer": CL_ISSUER,
                    "name": "Registro de Empresas y Sociedades",
                    "country": "CL",
                    "status": "active",
                    "max_assurance": "high",
                    "jwks": {"keys": [self.authority_keys(self.cl_key, "cl-1")]},
                    "recognized_for": [
                        {
                            "credential_types": ["merchant-identity"],
                            "min_assurance": "substantial",
                            "valid_from": "2025-01-01T00:00:00Z",
                            "valid_until": self.agreement_until,
                            "agreement_id": 7,
                        }
                    ],
                },
            ],
        }

    def merchant_status_payload(self, country: str) -> dict[str, Any]:
        return {
            "iss": ISSUER,
            "sub": country,
            **self.times(),
            "ttl": TTL,
            "merchants": [m for m in self.merchants if m["issuer"].endswith(country.lower() + "/registry")],
            "credentials": [c for c in self.revoked_credentials if c["issuer"].endswith(country.lower() + "/registry")],
        }

    def status_list_payload(self, number: int = 1) -> dict[str, Any]:
        return {
            "iss": ISSUER,
            "sub": f"{ISSUER}/api/v1/status-lists/{number}/",
            **self.times(),
            "ttl": TTL,
            "status_list": {"bits": 2, "lst": encode_lst(self.statuses)},
        }

    def publish(self) -> None:
        """Every document signed now, as the registry serves it."""
        self.documents["/.well-known/jwks.json"] = Served(
            json.dumps({"keys": self.jwks_keys}).encode(), headers={"Content-Type": "application/json"}
        )
        self.serve("/api/v1/trust-lists/CN/", self.sign(self.trust_list_payload(), "trust-list+jwt"), max_age=TTL)
        for country in ("CN", "CL"):
            self.serve(
                f"/api/v1/merchant-status/{country}/",
                self.sign(self.merchant_status_payload(country), "merchant-status+jwt"),
                max_age=TTL,
            )
        self.serve("/api/v1/status-lists/1/", self.sign(self.status_list_payload(), "statuslist+jwt"), max_age=TTL)

    def serve(self, path: str, body: bytes, *, status: int = 200, max_age: int | None = None) -> None:
        headers = {"Content-Type": "application/jwt"}
        if max_age is not None:
            headers["Cache-Control"] = f"public, max-age={max_age}"
        self.documents[path] = Served(body, status, headers)

    def set_status(self, index: int, value: int) -> None:
        set_status(self.statuses, index, value)
        self.publish()

    def list_merchant(self, registration_number: str, status: str, issuer: str = CL_ISSUER) -> None:
        self.merchants.append({"issuer": issuer, "registration_number": registration_number, "status": status})
        self.publish()

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    # Credentials --------------------------------------------------------------------------

    def credential(self, *, issuer: str = CL_ISSUER, status_index: int | None = None, **claims: Any) -> str:
        country = "CN" if issuer == CN_ISSUER else "CL"
        iat = int(self.clock.now.timestamp()) - 3600
        payload = {
            "iss": issuer,
            "sub": "76.123.456-7",
            "jti": "credential-1",
            "iat": iat,
            "exp": iat + 30 * 86_400,
            "credential_type": "merchant-identity",
            "assurance": "substantial",
            "merchant": {"legal_name": "Comercial Andes SpA", "registration_number": "76.123.456-7",
                         "country": country},
        }  # fmt: skip
        if status_index is not None:
            payload["status"] = {"status_list": {"idx": status_index, "uri": f"{ISSUER}/api/v1/status-lists/1/"}}
        payload.update(claims)
        key, kid = (self.cn_key, "cn-1") if country == "CN" else (self.cl_key, "cl-1")
        headers = {"kid": kid, "typ": "merchant-credential+jwt"}
        return jwt.encode(payload, key, algorithm="EdDSA", headers=headers)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class Server:
    """`registry` on http://127.0.0.1:<port>, in a thread."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        handler = type("Handler", (_Handler,), {"registry": registry})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    registry: Registry

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        registry = self.registry
        registry.requests.append((self.path, self.headers.get("If-None-Match")))
        served = registry.documents.get(self.path)
        if registry.down:
            served = Served(b'{"error": "unavailable"}', 503)
        elif served is None:
            served = Served(b'{"error": "not_found", "detail": "no such list"}', 404)
        etag = etag_of(served.body)
        if served.status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            for name, value in served.headers.items():
                if name == "Cache-Control":
                    self.send_header(name, value)
            self.end_headers()
            return
        self.send_response(served.status)
        for name, value in served.headers.items():
            self.send_header(name, value)
        if served.status == 200:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(served.body)))
        self.end_headers()
        self.wfile.write(served.body)


def tampered(token: str) -> str:
    """The token with its signature's first character changed: still
    well-formed, no longer valid."""
    header, payload, signature = token.split(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{header}.{payload}.{first}{signature[1:]}"
