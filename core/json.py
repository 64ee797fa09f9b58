"""JSON values as the registry reads them from untrusted input.

Duplicate member names: RFC 8259 §4 says only that names SHOULD be unique
and that parsers then differ (Python's keeps the last, others the first): a
body or a token read one way here and another way elsewhere is how a check
is slipped past. The registry refuses them everywhere, as I-JSON (RFC 7493
§2.3) does: in tokens (merchant_verifier.tokens) and in request bodies
(recognition/api/parsers.py). Each parser's `object_pairs_hook` builds the
dict and compares sizes, which costs almost nothing when the names are
unique; `repeated_name` finds the name that repeats only once the sizes
differ, for the message (one copy, merchant_verifier's).
"""

from collections.abc import Mapping
from typing import Any

from merchant_verifier.tokens import repeated_name

__all__ = ["json_type", "repeated_name"]


def json_type(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words, for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, Mapping) else type(value).__name__
