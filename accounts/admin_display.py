"""How every admin of the registry shows what it lists: instants with seconds
and zone, countries by name (own and foreign rows: accounts/admin_rows.py).

One formatter for instants, used by every list and page: an audit log read
across eight time zones must not say "5 p.m.". The browser adds the reader's
local time beside each marked instant (accounts/static/accounts/admin/instants.js).
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django_countries import countries

from accounts.scope import country_code


def display_instant(value: datetime | None, empty: str = "-") -> SafeString | str:
    """An instant in UTC with seconds, marked (data-instant, the ISO instant)
    for the local time the browser adds beside it."""
    if value is None:
        return empty
    utc = value.astimezone(UTC)
    marked = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The date never breaks at its hyphens when a narrow column wraps.
    return format_html(
        '<time datetime="{}" data-instant="{}"><span class="nowrap">{}</span> {} UTC</time>',
        marked,
        marked,
        utc.strftime("%Y-%m-%d"),
        utc.strftime("%H:%M:%S"),
    )


def country_label(value: object) -> str:
    """Chile (CL)"""
    code = country_code(value)
    if not code:
        return "-"
    name = countries.name(code)
    return f"{name} ({code})" if name else code


def country_column(path: str, description: str = "country") -> Any:
    """A list column showing the country at `path` ("authority__country") by name."""

    @admin.display(description=description, ordering=path)
    def column(model_admin: Any, obj: Any) -> str:
        value = obj
        for part in path.split("__"):
            value = getattr(value, part)
        return country_label(value)

    return column


def country_filter(field: str, title: str) -> type[admin.SimpleListFilter]:
    """A list filter on a country column, offering the countries present by
    name. Its parameter is the field's own name, as Django's filter on all
    values had it, so bookmarked filters keep working."""

    class CountryFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            codes = model_admin.get_queryset(request).order_by().values_list(field, flat=True).distinct()
            return sorted(((str(code), country_label(code)) for code in codes if code), key=lambda pair: pair[1])

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    CountryFilter.title = title
    CountryFilter.__name__ = f"CountryFilter_{field}"
    return CountryFilter
