"""Pagination of the read endpoints, in DRF's shapes (DESIGN §10):
{"count", "next", "previous", "results"} for page numbers, and
{"next", "previous", "results"} for the audit log's cursor.

A bad `page`, `page_size` or `cursor` is a 400 (the query serializers of
filters.py check the first two; the cursor is checked here); a page number
past the last page stays DRF's 404.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Expression, F, QuerySet, Value
from rest_framework import serializers
from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from core.instants import iso, parse_instant

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class RegistryPagination(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class RowComparison(Expression):
    """`(created_at, id) > (%s, %s)` (or `<`): one SQL row-value comparison,
    which PostgreSQL and SQLite (3.15 on) both take as the range of an index
    on (..., created_at, id), estimated as the first column's range. Written
    out as `created_at > t OR (created_at = t AND id > i)`, with
    `created_at >= t` to bound the scan (Django's fallback for SQLite), it
    is a range on created_at only, whose selectivity PostgreSQL counts twice:
    near either end of the log it misjudged a page as a few rows, and read
    and sorted every row on the cursor's far side instead."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, operator: str, fields: tuple[str, ...], values: tuple[Any, ...]) -> None:
        super().__init__()
        if operator not in (">", "<") or len(fields) != len(values):
            raise ValueError("a row comparison is > or < between as many values as fields")
        self.operator, self.columns, self.values = operator, [F(name) for name in fields], values

    def get_source_expressions(self) -> list[Any]:
        return self.columns

    def set_source_expressions(self, expressions: list[Any]) -> None:
        self.columns = expressions

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        left, right, params = [], [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            left.append(sql)
            params += column_params
        for column, value in zip(self.columns, self.values, strict=True):
            sql, value_params = compiler.compile(Value(value, output_field=column.output_field))
            right.append(sql)
            params += value_params
        return f"({', '.join(left)}) {self.operator} ({', '.join(right)})", params


@dataclass(frozen=True)
class Key:
    """Where a page of the audit log starts: after (or, reverse, before) a row."""

    created_at: datetime
    id: uuid.UUID
    reverse: bool


class AuditCursorPagination(CursorPagination):
    """Keyset pages of the audit log in time order, (created_at, id): each
    page is `(created_at, id) > <last seen> ORDER BY created_at, id LIMIT n`,
    read from an index whatever the depth (an offset would scan every row
    before the page). The cursor is our own: base64url of the last row's key
    and the direction; anything else is a 400."""

    ordering = ("created_at", "id")
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request: Request) -> Key | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            # Exactly what encode_key writes: the types are checked before
            # anything reads them (uuid.UUID(1) is an AttributeError).
            if not isinstance(fields, dict) or fields.keys() != {"t", "i", "r"}:
                raise ValueError
            at, id, reverse = fields["t"], fields["i"], fields["r"]
            if not (isinstance(at, str) and isinstance(id, str) and isinstance(reverse, bool)):
                raise ValueError
            key = Key(parse_instant(at), uuid.UUID(id), reverse)
            if str(key.id) != id:
                raise ValueError
        # RecursionError: JSON nested deeper than the decoder's stack.
        except (ValueError, UnicodeEncodeError, binascii.Error, RecursionError):
            raise serializers.ValidationError({self.cursor_query_param: ["not a cursor given by this API"]}) from None
        return key

    def encode_key(self, row: Any, *, reverse: bool) -> str:
        fields = {"t": iso(row.created_at), "i": str(row.id), "r": reverse}
        encoded = base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def paginate_queryset(
        self,
        queryset: QuerySet,
        request: Request,
        view: APIView | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Any]:
        """One page of `queryset` from the cursor on, created_at in [since,
        until). The range is applied here, merged with the cursor's own
        bound into one bound on each side of created_at: given two lower (or
        two upper) bounds on it, SQLite ranges its index scan by the one
        written first, without comparing the values (a deep page after an
        early `since` would read every row from `since` to the cursor), and
        PostgreSQL multiplies their selectivities (a `previous` page under
        an `until` sorted every row before the cursor)."""
        self.request, self.base_url = request, request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        key = self.decode_cursor(request)
        forward = key is None or not key.reverse
        if key is not None:
            at, id = key.created_at, key.id
            # The cursor's bound replaces the range's on its side when it is
            # the tighter one; otherwise every row of the range is past the
            # cursor already, and the range's bound is enough.
            if forward and (since is None or at >= since):
                queryset = queryset.filter(RowComparison(">", ("created_at", "id"), (at, id)))
                since = None
            elif not forward and (until is None or at < until):
                queryset = queryset.filter(RowComparison("<", ("created_at", "id"), (at, id)))
                until = None
        if since is not None:
            queryset = queryset.filter(created_at__gte=since)
        if until is not None:
            queryset = queryset.filter(created_at__lt=until)
        order = ("created_at", "id") if forward else ("-created_at", "-id")
        rows = list(queryset.order_by(*order)[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size] if forward else rows[: self.page_size][::-1]
        self.page = rows
        self.has_next = more if forward else True
        self.has_previous = key is not None if forward else more
        return rows

    def get_next_link(self) -> str | None:
        return self.encode_key(self.page[-1], reverse=False) if self.has_next and self.page else None

    def get_previous_link(self) -> str | None:
        return self.encode_key(self.page[0], reverse=True) if self.has_previous and self.page else None


def paginated_response(
    *,
    request: Request,
    view: APIView,
    queryset: QuerySet,
    serializer_class: type[serializers.Serializer],
    prepare: Callable[[list], list[Any]] | None = None,
    bounds: dict[str, Any] | None = None,
) -> Response:
    """One page of `queryset` in the view's pagination shape; `prepare` turns
    the page's rows into what `serializer_class` reads; `bounds` go to the
    paginator (the audit log's time range)."""
    paginator: BasePagination = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view, **(bounds or {}))
    items = prepare(page) if prepare else page
    return paginator.get_paginated_response(serializer_class(items, many=True, context={"request": request}).data)
