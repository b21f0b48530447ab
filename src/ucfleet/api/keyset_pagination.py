"""The long lists (UC tenants, update tasks): `?page=N` as API.md says, plus `?cursor=` —
the `next`/`previous` links carry a cursor, so following them costs the same on page 20,000
as on page 1 (core.paging). `count` is exact up to a limit, above it PostgreSQL's estimate,
and `count_estimated` says which."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ucfleet.api.pagination import PageNumberPagination
from ucfleet.core.paging import (
    Cursor,
    InvalidCursor,
    KeysetSlice,
    bounded_count,
    keyset_slice,
    offset_slice,
)


class KeysetPageNumberPagination(PageNumberPagination):
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> Any:
        self.request = request
        size = self.get_page_size(request) or self.page_size
        self.count, self.estimated = bounded_count(queryset)
        token = request.query_params.get(self.cursor_query_param)
        piece: KeysetSlice
        if token:
            try:
                piece = keyset_slice(queryset, size, Cursor.decode(token))
            except InvalidCursor:
                raise ValidationError(
                    {self.cursor_query_param: [_("Not a cursor of this list.")]}
                ) from None
        else:
            raw = request.query_params.get(self.page_query_param, "1")
            try:
                number = int(raw)
                if number < 1:
                    raise ValueError
            except ValueError:
                raise NotFound(_("Invalid page.")) from None
            # An estimate may be low: allow twice its pages, never an unbounded OFFSET.
            last = max(1, -(-self.count // size)) * (2 if self.estimated else 1)
            if number > last:
                raise NotFound(_("Invalid page."))
            piece = offset_slice(queryset, size, number)
            if not piece.rows and number > 1:
                raise NotFound(_("Invalid page."))
        self.piece = piece
        return piece.rows

    def _url(self) -> str:
        assert self.request is not None
        return self.request.build_absolute_uri()

    def get_next_link(self) -> str | None:
        if not (self.piece.has_after and self.piece.last):
            return None
        url = remove_query_param(self._url(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.piece.last.encode())

    def get_previous_link(self) -> str | None:
        if not (self.piece.has_before and self.piece.first):
            return None
        url = remove_query_param(self._url(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.piece.first.encode())

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "count_estimated": self.estimated,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count_estimated"] = {
            "type": "boolean",
            "description": "true when `count` is the database's estimate (long lists)",
        }
        answer["required"] = [*answer.get("required", []), "count_estimated"]
        return answer

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "A position in the list, from the `next`/`previous` links "
                "(instead of `page`).",
                "schema": {"type": "string"},
            }
        )
        return parameters
