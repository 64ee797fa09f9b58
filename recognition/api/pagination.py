"""Pagination of the read endpoints, in DRF's shapes (DESIGN §10):
{"count", "next", "previous", "results"} for page numbers, and
{"next", "previous", "results"} for the audit log's cursor.

A bad `page`, `page_size` or `cursor` is a 400 (the query serializers of
filters.py check the first two; the cursor is checked here); a page number
past the last page stays DRF's 404.
"""

import re
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

_POSITION = re.compile(r"[1-9][0-9]{0,18}")


class RegistryPagination(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class AuditCursorPagination(CursorPagination):
    """Keyset pagination on the audit log's unique, increasing `seq`: each page
    is `seq > <last seen> ORDER BY seq LIMIT n`, served by an index whatever
    the depth (an offset would scan every row before the page)."""

    ordering = "seq"
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
        else:
            if cursor is None:
                return None
            # `seq` is unique: a cursor made by this API has no offset and a
            # whole-number position; anything else is not one of ours (and a
            # position that is no number would fail in the query).
            if cursor.offset == 0 and cursor.position is not None and _POSITION.fullmatch(cursor.position):
                return cursor
        raise serializers.ValidationError({self.cursor_query_param: ["not a cursor given by this API"]})


def paginated_response(
    *,
    request: Request,
    view: APIView,
    queryset: QuerySet,
    serializer_class: type[serializers.Serializer],
    prepare: Callable[[list], list[Any]] | None = None,
) -> Response:
    """One page of `queryset` in the view's pagination shape; `prepare` turns
    the page's rows into what `serializer_class` reads."""
    paginator: BasePagination = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    items = prepare(page) if prepare else page
    return paginator.get_paginated_response(serializer_class(items, many=True, context={"request": request}).data)
