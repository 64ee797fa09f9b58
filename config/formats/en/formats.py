"""Dates and times as every page of the registry shows them: with seconds and
the zone (UTC), never "Dec. 6, 2026, 5 p.m." (an audit log is read across
time zones). The admin's own columns use accounts.admin_display, which also
marks each instant for the reader's local time."""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
