"""The request body parser of the API (in a module of its own: DRF imports
it from its settings while `rest_framework.views` loads, so it must not
import anything that imports that module)."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json


class JSONBodyParser(JSONParser):
    """DRF's strict JSON parser (no NaN or Infinity), reading the body in one
    piece rather than through a codec stream reader (same result and same
    messages, less work on every request); a body nested deeper than
    Python's decoder can follow is a parse error, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # DRF's choice of charset, which refuses bytes-to-bytes codecs (a
        # compressed body would otherwise expand after the size check).
        encoding = get_encoding(parser_context or {})
        try:
            constant = json.strict_constant if self.strict else None
            return json.loads(stream.read().decode(encoding), parse_constant=constant)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from None
