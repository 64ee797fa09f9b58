"""The request body parser of the API (in a module of its own: DRF imports
it from its settings while `rest_framework.views` loads, so it must not
import anything that imports that module)."""

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

from core.json import repeated_name

# A member name is quoted in the error up to this length (the body may be 1 MiB).
_SHOWN_NAME = 100


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError(f"duplicate member name {repeated_name(pairs)[:_SHOWN_NAME]!r}")
    return members


# Built once: json.loads with any argument builds a decoder on every call.
_DECODERS = {
    strict: json.JSONDecoder(
        object_pairs_hook=_unique_members, **({"parse_constant": strict_constant} if strict else {})
    )
    for strict in (True, False)
}


class JSONBodyParser(JSONParser):
    """DRF's strict JSON parser (no NaN or Infinity), reading the body in one
    piece rather than through a codec stream reader (same result and same
    messages, less work on every request). Stricter in two ways: an object
    that repeats a member name, at any depth, is a parse error (which one
    would count is not for a parser to guess; recognition/json_members.py),
    and so is a body nested deeper than Python's decoder can follow (not a
    500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # DRF's choice of charset, which refuses bytes-to-bytes codecs (a
        # compressed body would otherwise expand after the size check).
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
            if text.startswith("\ufeff"):  # as json.loads refuses it
                raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
            return _DECODERS[self.strict].decode(text)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from None
