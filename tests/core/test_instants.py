"""The one reading of an instant (core/instants.py) as a table of
cases, and the OpenAPI pattern held to it. Every endpoint that takes an
instant answers the same table: tests/api/test_instant_parameters.py."""

import re
from datetime import UTC, timedelta

import pytest

from core.instants import instant_pattern, iso, parse_instant
from tests.support.instants import ACCEPTED, AT, REFUSED, REFUSED_DATES


@pytest.mark.parametrize(("text", "expected", "date"), ACCEPTED)
def test_accepted_instants(text, expected, date):
    assert parse_instant(text, allow_date=True) == expected
    if date:
        with pytest.raises(ValueError, match="a date alone is not an instant here"):
            parse_instant(text)
    else:
        assert parse_instant(text) == expected
    assert parse_instant(text, allow_date=True).tzinfo is UTC


@pytest.mark.parametrize(("text", "fragment"), REFUSED)
@pytest.mark.parametrize("allow_date", [False, True])
def test_refused_instants_say_why(text, fragment, allow_date):
    with pytest.raises(ValueError) as refused:
        parse_instant(text, allow_date=allow_date)
    message = str(refused.value)
    assert fragment in message
    assert message.startswith(repr(text[:40]))


@pytest.mark.parametrize(("text", "fragment"), REFUSED_DATES)
def test_refused_dates_say_why(text, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_instant(text, allow_date=True)


def test_the_message_offers_the_date_only_where_it_is_accepted():
    with pytest.raises(ValueError, match=r"^'soon' is not an RFC 3339 UTC time \(2026-03-01T00:00:00Z\)$"):
        parse_instant("soon")
    with pytest.raises(ValueError, match=r"^'soon' is not an RFC 3339 UTC time or a date \(.* or 2026-03-01\)$"):
        parse_instant("soon", allow_date=True)


@pytest.mark.parametrize("allow_date", [False, True])
def test_the_openapi_pattern_says_what_the_parser_reads(allow_date):
    """The pattern admits every accepted text and no text the parser refuses
    for its shape (the calendar, a real day and time, is beyond a pattern)."""
    source = instant_pattern(allow_date=allow_date)
    assert source.startswith("^") and source.endswith("$")
    pattern = re.compile(source[:-1] + r"\Z")  # ECMA-262's $, which a trailing newline does not satisfy
    for text, _, date in ACCEPTED:
        assert bool(pattern.search(text)) is (allow_date or not date), text
    calendar = ("not a valid date", "+24:00 is not an offset")
    for text, fragment in REFUSED + (REFUSED_DATES if allow_date else []):
        if not any(reason in fragment for reason in calendar):
            assert not pattern.search(text), text


def test_iso_writes_utc_with_a_z():
    assert iso(AT) == "2026-03-01T00:00:00Z"
    assert iso(AT + timedelta(microseconds=5)) == "2026-03-01T00:00:00.000005Z"
