"""Instants in requests: one reading of an RFC 3339 time for every endpoint
that takes one (`GET /api/v1/recognition/` and the matrix, JSON and page,
`at`; TRQP `context.time`; the audit log's `since` and `until`), so that they
cannot disagree about what a time is.

The rule (DESIGN §9: "RFC 3339 UTC instant"; §10: "always UTC"):

- `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z`, `+00:00` or `-00:00`
  (RFC 3339 §4.3: a time in UTC whose local offset is unknown). `T` and `Z`
  may be lower case (RFC 3339 §5.6).
- Another offset is refused, naming the same instant in UTC, rather than
  converted: the registry's answers and its command line speak UTC only, and
  a caller who sent +08:00 learns at once what the registry will echo.
- ASCII digits only; nothing before or after it (no spaces: a `+` left
  unencoded in a query string arrives as a space, and the message says so).
- 1 to 9 fractional digits, truncated to microseconds (Python's resolution).
- A real date and time in the years 0001 to 9999; no leap second (`:60`,
  which POSIX time, and so every stored instant, cannot hold).
- Where the caller allows it, a bare date `YYYY-MM-DD` means 00:00:00Z that
  day (what an HTML date picker sends).
"""

import functools
import re
from datetime import UTC, datetime, timedelta

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?", re.ASCII
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_UTC_OFFSETS = frozenset({"Z", "z", "+00:00", "-00:00"})

TIME_EXAMPLE, DATE_EXAMPLE = "2026-03-01T00:00:00Z", "2026-03-01"

# The same grammar for the OpenAPI schema (ECMA-262 regular expressions
# without lookaround, which generators such as hypothesis cannot draw from),
# calendar included, so that the schema admits exactly what parse_instant
# accepts; a test holds it to the parser. Years 0001 to 9999; the Gregorian
# calendar's month lengths; 29 February in a year divisible by 4 but not by
# 100, or by 400 (RFC 3339 Appendix C); hours 00-23, no leap second.
_YEAR = "([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = "((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
_DATE_PATTERN = f"({_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME_PATTERN = f"{_DATE_PATTERN}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]" + r"(\.[0-9]{1,9})?([Zz]|[+-]00:00)"


def instant_pattern(*, allow_date: bool = False) -> str:
    return f"^({_TIME_PATTERN}|{_DATE_PATTERN})$" if allow_date else f"^{_TIME_PATTERN}$"


def describe(*, allow_date: bool = False) -> str:
    """What an instant parameter takes, for its documentation."""
    date = f"; or a date, `{DATE_EXAMPLE}`, meaning 00:00:00Z that day" if allow_date else ""
    return (
        f"RFC 3339 in UTC: `{TIME_EXAMPLE}` (or `+00:00`, `-00:00`; in a URL write `+` as `%2B`), at most 9 "
        f"fractional digits (truncated to microseconds){date}. Another offset is a 400 whose message gives the "
        "same instant in UTC"
    )


@functools.lru_cache(maxsize=256)  # the same instants recur: a batch's, an agreement's window
def iso(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, and the fraction of a second when there is
    one: key and agreement bounds are compared to the microsecond, so whole
    seconds could mislead a reader."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_text(value: datetime) -> str:
    """An instant as people read it: to the second, in UTC, said so
    ("2026-12-06 17:00:05 UTC")."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value else None


def parse_instant(text: str, *, allow_date: bool = False) -> datetime:
    """`text` as an aware UTC datetime under the rule above; raises
    ValueError with a message that quotes the value and says what to send."""
    shown = repr(text[:40])
    if allow_date and (date := _DATE.fullmatch(text)):
        try:
            return datetime(*map(int, date.groups()), tzinfo=UTC)
        except ValueError:
            raise ValueError(f"{shown} is not a valid date") from None
    match = _TIME.fullmatch(text)
    if match is None or match[8] is None:
        raise ValueError(_not_an_instant(text, allow_date=allow_date, naive=match is not None))
    *fields, fraction, offset = match.groups()
    try:
        parsed = datetime(*map(int, fields), int((fraction or "")[:6].ljust(6, "0")), tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{shown} is not a valid date and time") from None
    if offset not in _UTC_OFFSETS:
        raise ValueError(f"{shown} is not in UTC{_in_utc(parsed, offset)}")
    return parsed


def _not_an_instant(text: str, *, allow_date: bool, naive: bool) -> str:
    forms = f"{TIME_EXAMPLE} or {DATE_EXAMPLE}" if allow_date else TIME_EXAMPLE
    message = f"{text[:40]!r} is not an RFC 3339 UTC time{' or a date' if allow_date else ''} ({forms})"
    if text != text.strip():
        return f"{message}: remove the spaces around it"
    if " " in text and _TIME.fullmatch(text.replace(" ", "+")):
        return f"{message}: send a '+' in a query string as %2B"
    if naive:
        return f"{message}: it has no offset; add Z for UTC"
    if _DATE.fullmatch(text):
        return f"{message}: a date alone is not an instant here; add the time, e.g. {text}T00:00:00Z"
    if any(char.isdigit() and not char.isascii() for char in text):
        return f"{message}: write the digits as ASCII 0-9"
    if re.search(r"\.\d{10,}", text, re.ASCII):
        return f"{message}: at most 9 digits after the decimal point"
    return message


def _in_utc(local: datetime, offset: str) -> str:
    """`; in UTC that is 2026-03-01T00:00:00Z`, when the offset is a real one."""
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        return f" (and {offset} is not an offset)"
    delta = timedelta(hours=hours, minutes=minutes)
    try:
        return f"; give the same instant in UTC: {iso(local - delta if offset[0] == '+' else local + delta)}"
    except OverflowError:
        return "; give it in UTC (Z)"
