"""The change log; `?format=csv` exports every matching entry (not one page)."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.fields import UtcDateTimeField
from ucfleet.api.params import validated_query
from ucfleet.api.v1.serializers.audit import ChangeLogEntrySerializer, ChangeLogFilterSerializer
from ucfleet.api.v1.views.base import ApiViewSet
from ucfleet.api.v1.views.csv import CsvListMixin
from ucfleet.audit.csv import spreadsheet_safe_cell
from ucfleet.audit.grouping import SINGLE, change_log_lines, first_entries, group_sizes
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.audit.queries import change_log_visible_to

CSV_COLUMNS = [
    "id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "field",
    "old",
    "new",
    "group",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(entries: QuerySet[ChangeLogEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    at = UtcDateTimeField()
    yield writer.writerow(CSV_COLUMNS)
    rows = entries.values_list(
        "id",
        "at",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "field",
        "old",
        "new",
        "group",
    )
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [row[0], at.to_representation(row[1]), *(spreadsheet_safe_cell(v) for v in row[2:])]
        )


def filter_entries(entries: QuerySet[ChangeLogEntry], filters: dict[str, Any]) -> QuerySet:
    lookups = {
        "actor": "actor_name",
        "action": "action",
        "object_type": "object_type",
        "object_id": "object_id",
    }
    for name, field in lookups.items():
        if name in filters:
            entries = entries.filter(**{field: filters[name]})
    if "group" in filters:
        entries = entries.filter(group=filters["group"])
    if "since" in filters:
        entries = entries.filter(at__gte=filters["since"])
    if "until" in filters:
        entries = entries.filter(at__lt=filters["until"])
    return entries


class ChangeLogViewSet(CsvListMixin, ApiViewSet):
    queryset = ChangeLogEntry.objects.none()
    serializer_class = ChangeLogEntrySerializer

    @extend_schema(
        parameters=[ChangeLogFilterSerializer],
        responses={
            (200, "application/json"): ChangeLogEntrySerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def list(self, request: Request) -> Any:
        filters = validated_query(ChangeLogFilterSerializer, request)
        entries = filter_entries(change_log_visible_to(self.admin), filters)
        entries = entries.order_by("-at", "-id")
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(csv_rows(entries), content_type="text/csv")
            response["Content-Disposition"] = 'attachment; filename="change-log.csv"'
            return response
        if filters.get("grouped"):
            return self._grouped(entries)
        page = self.paginate_queryset(entries) or []
        return self._answer(page, group_sizes(entries, [e.group for e in page if e.group]))

    def _grouped(self, entries: QuerySet[ChangeLogEntry]) -> Response:
        lines = self.paginate_queryset(change_log_lines(entries)) or []
        page = first_entries(entries, lines)
        sizes = {line["key"]: line["size"] for line in lines if not line["key"].startswith(SINGLE)}
        return self._answer(page, sizes)

    def _answer(self, page: Sequence[ChangeLogEntry], sizes: dict[str, int]) -> Response:
        context = {**self.get_serializer_context(), "group_sizes": sizes}
        data = ChangeLogEntrySerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)
