"""The RFC known-answer vectors of JOSE (RFC 7515, 7520, 8037), vendored in
tests/data/jose-rfc-vectors.json (the verifier package's own tests read
them there too: test keys stay under tests/), by id, and what the tests do with them."""

import base64
import json
from pathlib import Path

VECTORS = {
    vector["id"]: vector
    for vector in json.loads((Path(__file__).parents[2] / "tests/data/jose-rfc-vectors.json").read_text())["vectors"]
}


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def vector_parts(vector: dict) -> tuple[bytes, bytes]:
    header, payload, signature = vector["compact"].split(".")
    return f"{header}.{payload}".encode("ascii"), unb64(signature)
