"""`?format=csv` on the API's lists: DRF's format override selects `CsvRenderer`, the view
streams the body itself (`audit.exports`: keyset chunks, formula-safe cells, server time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from rest_framework import renderers
from rest_framework.request import Request

from ucfleet.audit.exports import csv_lines
from ucfleet.maintenance.queries import server_zone


class CsvRenderer(renderers.BaseRenderer):
    """Selected by `?format=csv` (DRF's format override); the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return b"" if data is None else str(data).encode()


# A list view's renderers when it also exports CSV.
LIST_RENDERERS = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CsvRenderer]


def wants_csv(request: Request) -> bool:
    return getattr(request.accepted_renderer, "format", None) == "csv"


def csv_export(
    name: str, rows: QuerySet[Any], columns: Sequence[tuple[str, str]]
) -> StreamingHttpResponse:
    """Every row of `rows` (already scoped and filtered), in its order, as CSV."""
    response = StreamingHttpResponse(
        csv_lines(rows, columns, server_zone()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def csv_or(serializer_class: Any) -> dict[Any, Any]:
    """The OpenAPI answers of a list that also exports CSV."""
    return {
        (200, "application/json"): serializer_class(many=True),
        (200, "text/csv"): OpenApiTypes.STR,
    }


class CsvListMixin:
    # The list action also answers `?format=csv`; the other actions keep the JSON renderers.
    # Errors are JSON whatever format was asked for, as everywhere in the API.
    request: Any

    def get_renderers(self) -> list[Any]:
        if getattr(self, "action", None) == "list":
            return [renderer() for renderer in LIST_RENDERERS]
        return super().get_renderers()  # type: ignore[misc]

    def handle_exception(self, exc: Exception) -> Any:
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)  # type: ignore[misc]
