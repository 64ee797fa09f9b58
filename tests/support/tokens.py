"""Crafting credentials for tests: well-formed ones signed with PyJWT, and
hostile ones assembled by hand."""

import base64
import json
import time
import uuid
from typing import Any

import jwt

from tests.support.actors import Actor

TYP = "merchant-credential+jwt"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    text = value if isinstance(value, str | bytes) else json.dumps(value)
    return b64(text.encode("utf-8") if isinstance(text, str) else text)


def claims_for(actor: Actor, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    merchant = actor.merchant
    claims = {
        "iss": actor.authority.issuer,
        "sub": merchant.registration_number,
        "jti": str(uuid.uuid4()),
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 86400,
        "credential_type": "merchant-identity",
        "assurance": merchant.assurance,
        "merchant": {
            "legal_name": merchant.legal_name,
            "registration_number": merchant.registration_number,
            "country": actor.authority.country.code,
        },
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not DROP}


DROP = object()


def sign(
    actor: Actor, claims: dict[str, Any] | None = None, *, header: dict[str, Any] | None = None, **overrides
) -> str:
    """A credential signed by `actor`'s key, with claims and header overrides
    (use DROP to leave a member out)."""
    body = claims if claims is not None else claims_for(actor, **overrides)
    headers = {"kid": actor.key.kid, "typ": TYP, **(header or {})}
    token = jwt.encode(body, actor.private_key, algorithm=actor.key.alg, headers=headers)
    if header and any(value is DROP for value in header.values()):
        raise ValueError("use raw() to drop header members")
    return token


def raw(header: dict[str, Any] | str | bytes, payload: dict[str, Any] | str | bytes, signature: bytes = b"sig") -> str:
    return f"{segment(header)}.{segment(payload)}.{b64(signature)}"


def resign(actor: Actor, header_segment: str, payload_segment: str) -> str:
    """Sign arbitrary segments with the actor's Ed25519 key (valid signature
    over hostile content)."""
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    return f"{header_segment}.{payload_segment}.{b64(actor.private_key.sign(signing_input))}"
