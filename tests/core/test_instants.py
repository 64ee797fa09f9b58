"""The one reading of an instant (core/instants.py) as a table of
cases, and the OpenAPI pattern held to it. Every endpoint that takes an
instant answers the same table: tests/api/test_instant_parameters.py."""

import re
from datetime import UTC, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def schema_pattern(allow_date: bool) -> re.Pattern:
    source = instant_pattern(allow_date=allow_date)
    assert source.startswith("^") and source.endswith("$")
    return re.compile(source[:-1] + r"\Z")  # ECMA-262's $, which a trailing newline does not satisfy


def parses(text: str, allow_date: bool) -> bool:
    try:
        parse_instant(text, allow_date=allow_date)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("allow_date", [False, True])
def test_the_openapi_pattern_says_what_the_parser_reads(allow_date):
    """The pattern admits every accepted text and no refused one, the
    calendar included: a schema-valid instant is never refused."""
    pattern = schema_pattern(allow_date)
    for text, _, date in ACCEPTED:
        assert bool(pattern.search(text)) is (allow_date or not date), text
    for text, _ in REFUSED + (REFUSED_DATES if allow_date else []):
        assert not pattern.search(text), text


# Years around the Gregorian rules (0000 is no year; 1900 and 2100 are not
# leap years, 2000 and 2400 are), every month and day number from 00 to 32,
# and times at and past their bounds.
YEARS = ("0000", "0001", "0004", "0010", "0100", "0400", "1000", "1900", "2000", "2024", "2026", "2100", "2400", "9999")
TIMES = ("", "T00:00:00Z", "T23:59:59.999999999Z", "T24:00:00Z", "T12:60:00Z", "T12:00:60Z", "t09:30:00-00:00")


@pytest.mark.parametrize("allow_date", [False, True])
def test_the_pattern_and_the_parser_agree_on_every_calendar_date(allow_date):
    pattern = schema_pattern(allow_date)
    disagreements = [
        text
        for year in YEARS
        for month in range(14)
        for day in range(33)
        for time in TIMES
        if bool(pattern.search(text := f"{year}-{month:02}-{day:02}{time}")) is not parses(text, allow_date)
    ]
    assert not disagreements, disagreements[:10]


def test_the_pattern_knows_every_leap_year():
    pattern = schema_pattern(allow_date=True)
    for year in range(10_000):
        text = f"{year:04}-02-29"
        assert bool(pattern.search(text)) is parses(text, allow_date=True), text


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_every_text_the_pattern_admits_is_accepted(data):
    """What a schema-driven client draws from the pattern, the parser reads."""
    allow_date = data.draw(st.booleans())
    text = data.draw(st.from_regex(schema_pattern(allow_date), fullmatch=True))
    assert parses(text, allow_date), text


def test_iso_writes_utc_with_a_z():
    assert iso(AT) == "2026-03-01T00:00:00Z"
    assert iso(AT + timedelta(microseconds=5)) == "2026-03-01T00:00:00.000005Z"
