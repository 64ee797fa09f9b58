"""Duplicate member names in a JSON object. RFC 8259 §4 says only that names
SHOULD be unique and that parsers then differ (Python's keeps the last, others
the first): a body or a token read one way here and another way elsewhere is
how a check is slipped past. The registry refuses them everywhere, as I-JSON
(RFC 7493 §2.3) does: in tokens (recognition/services/token.py) and in request
bodies (recognition/api/parsers.py).

Each parser's `object_pairs_hook` builds the dict and compares sizes, which
costs almost nothing when the names are unique; this module finds the name
that repeats only once the sizes differ, for the message."""

from typing import Any


def repeated_name(pairs: list[tuple[str, Any]]) -> str:
    """The first name in `pairs` that repeats an earlier one (there is one)."""
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            return name
        seen.add(name)
    raise ValueError("no member name repeats")
