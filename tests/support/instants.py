"""The table of instants every endpoint that takes one must read alike
(core/instants.py): tests/core/test_instants.py holds the
parser to it, tests/api/test_instant_parameters.py every endpoint."""

from datetime import UTC, datetime, timedelta

AT = datetime(2026, 3, 1, tzinfo=UTC)

# (text, the instant it means, whether only where a bare date is allowed)
ACCEPTED = [
    ("2026-03-01T00:00:00Z", AT, False),
    ("2026-03-01t00:00:00z", AT, False),
    ("2026-03-01T00:00:00+00:00", AT, False),
    ("2026-03-01T00:00:00-00:00", AT, False),  # RFC 3339 §4.3: UTC, local offset unknown
    ("2026-03-01T12:30:45.5Z", AT + timedelta(hours=12, minutes=30, seconds=45, microseconds=500000), False),
    ("2026-03-01T00:00:00.123456789Z", AT + timedelta(microseconds=123456), False),  # truncated, not rounded
    ("2026-03-01T00:00:00.999999999Z", AT + timedelta(microseconds=999999), False),
    ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC), False),
    ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), False),
    ("2028-02-29T00:00:00Z", datetime(2028, 2, 29, tzinfo=UTC), False),
    ("2026-03-01", AT, True),
    ("0001-01-01", datetime(1, 1, 1, tzinfo=UTC), True),
    ("9999-12-31", datetime(9999, 12, 31, tzinfo=UTC), True),
]

# (text, a fragment of the message)
REFUSED = [
    ("", "is not an RFC 3339 UTC time"),
    ("yesterday", "is not an RFC 3339 UTC time"),
    ("1772323200", "is not an RFC 3339 UTC time"),
    ("2026-03-01T08:00:00+08:00", "is not in UTC; give the same instant in UTC: 2026-03-01T00:00:00Z"),
    ("2026-02-28T20:00:00-04:00", "give the same instant in UTC: 2026-03-01T00:00:00Z"),
    ("2026-03-01T00:00:00+24:00", "+24:00 is not an offset"),
    ("9999-12-31T23:00:00-05:00", "is not in UTC; give it in UTC (Z)"),  # past year 9999 in UTC
    ("2026-03-01T00:00:00", "it has no offset; add Z for UTC"),
    ("2026-03-01T00:00:00 00:00", "send a '+' in a query string as %2B"),
    (" 2026-03-01T00:00:00Z", "remove the spaces around it"),
    ("2026-03-01T00:00:00Z ", "remove the spaces around it"),
    ("2026-03-01T00:00:00Z\n", "remove the spaces around it"),
    ("2026-03-01T00:00:00.Z", "is not an RFC 3339 UTC time"),
    ("2026-03-01T00:00:00.1234567890Z", "at most 9 digits after the decimal point"),
    ("2026-03-01T00:00:00.\u0661Z", "write the digits as ASCII 0-9"),  # ARABIC-INDIC DIGIT ONE
    ("\uff12\uff10\uff12\uff16-03-01T00:00:00Z", "write the digits as ASCII 0-9"),  # full-width
    ("2026-02-30T00:00:00Z", "is not a valid date and time"),
    ("2026-03-01T24:00:00Z", "is not a valid date and time"),
    ("2026-12-31T23:59:60Z", "is not a valid date and time"),  # no leap seconds
    ("0000-01-01T00:00:00Z", "is not a valid date and time"),
    ("2026-3-1T00:00:00Z", "is not an RFC 3339 UTC time"),
    ("2026-03-01T00:00Z", "is not an RFC 3339 UTC time"),
    ("2026-03-01 00:00:00Z", "is not an RFC 3339 UTC time"),
    ("20260301T000000Z", "is not an RFC 3339 UTC time"),
    ("+2026-03-01T00:00:00Z", "is not an RFC 3339 UTC time"),
    ("12026-03-01T00:00:00Z", "is not an RFC 3339 UTC time"),
    ("2026-03-01T00:00:00+0000", "is not an RFC 3339 UTC time"),
    ("2026-03-01T00:00:00UTC", "is not an RFC 3339 UTC time"),
    ("9" * 100, "is not an RFC 3339 UTC time"),
]

# Refused where a date is allowed too.
REFUSED_DATES = [
    ("2026-02-30", "is not a valid date"),
    ("0000-01-01", "is not a valid date"),
    ("2026-13-01", "is not a valid date"),
    (" 2026-03-01", "remove the spaces around it"),
    ("2026-03-01 ", "remove the spaces around it"),
    ("\uff12\uff10\uff12\uff16-03-01", "write the digits as ASCII 0-9"),
    ("2026-03", "is not an RFC 3339 UTC time or a date"),
    ("2026-W09", "is not an RFC 3339 UTC time or a date"),
]
