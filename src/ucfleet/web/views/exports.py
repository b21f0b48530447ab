"""CSV exports of the task and tenant lists (R31): the rows the list's current filters and
sort select, through the same filter forms and `*_visible_to` reads as the lists (R1).

Streamed: rows are read in keyset chunks (`core.keyset`) and written as they come, so an
export of 100,000 tasks holds one chunk in memory, never the whole list. Every cell goes
through the change log's formula-safe writer: names and texts are typed by people.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ucfleet.audit.csv import spreadsheet_safe_cell
from ucfleet.core.keyset import keyset_rows
from ucfleet.tenants.queries import partners_visible_to, tenants_visible_to, with_markers
from ucfleet.versions.queries import versions_visible_to
from ucfleet.web.views.filters import TenantFilterForm
from ucfleet.web.views.tasks import _filtered_tasks

CHUNK_ROWS = 2000

# (CSV header, field path) — what the list rows show, plus the ids a script needs.
TASK_COLUMNS = (
    ("id", "id"),
    ("tenant", "tenant__name"),
    ("instance_id", "tenant__instance_id"),
    ("partner", "partner__name"),
    ("task_type", "task_type"),
    ("from_version", "from_version__name"),
    ("target_version", "target_version__name"),
    ("timing", "timing"),
    ("start", "earliest_start"),
    ("latest_start", "latest_start"),
    ("forced", "is_forced"),
    ("redeploy", "redeploy"),
    ("status", "status"),
    ("scheduled_by", "scheduled_by__username"),
    ("created", "created"),
    ("started", "started"),
    ("finished", "finished"),
    ("failure_reason", "failure_reason"),
)
TENANT_COLUMNS = (
    ("id", "id"),
    ("name", "name"),
    ("domain", "domain"),
    ("partner", "partner__name"),
    ("version", "version__name"),
    ("language", "language"),
    ("customer_id", "customer_id"),
    ("notification_email", "notification_email"),
    ("is_active", "is_active"),
    ("auto_update_allowed", "auto_update_allowed"),
    ("is_productive", "is_productive"),
    ("is_nfr", "is_nfr"),
    ("is_test", "is_test"),
    ("test_until", "test_until"),
    ("scale_unit", "scale_unit__name"),
    ("instance_id", "instance_id"),
    ("update_scheduled", "update_scheduled"),
    ("update_recommended", "version__recommend_update"),
)


def _cell(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()  # server time, with its offset
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_safe_cell(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(
    rows: QuerySet[Any], columns: Sequence[tuple[str, str]], zone: ZoneInfo
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in columns])
    for row in keyset_rows(rows, columns=[path for _, path in columns], chunk_size=CHUNK_ROWS):
        yield writer.writerow([_cell(value, zone) for value in row])


def csv_response(name: str, lines: Iterable[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ucfleet-{name}-{stamp}.csv"'
    return response


def _server_zone(request: HttpRequest) -> ZoneInfo:
    # The rows are written after the view returned, when the middleware has already
    # deactivated the request's zone: it is taken now.
    zone: Any = getattr(request, "server_zone", None) or timezone.get_current_timezone()
    return zone


def _task_export(request: HttpRequest, *, all_types: bool) -> StreamingHttpResponse:
    _form, tasks = _filtered_tasks(request, request.GET, all_types=all_types)
    name = "all-tasks" if all_types else "update-tasks"
    return csv_response(name, csv_lines(tasks, TASK_COLUMNS, _server_zone(request)))


@login_required
@require_GET
def task_export(request: HttpRequest) -> StreamingHttpResponse:
    return _task_export(request, all_types=False)


@login_required
@require_GET
def all_tasks_export(request: HttpRequest) -> StreamingHttpResponse:
    return _task_export(request, all_types=True)


@login_required
@require_GET
def tenant_export(request: HttpRequest) -> StreamingHttpResponse:
    admin: Any = request.user
    form = TenantFilterForm(
        request.GET or None,
        partners=list(partners_visible_to(admin).values_list("id", "name")),
        versions=list(versions_visible_to(admin).values_list("id", "name")),
    )
    form.is_valid()
    tenants = form.apply(with_markers(tenants_visible_to(admin)), request.GET.get("sort", ""))
    return csv_response("tenants", csv_lines(tenants, TENANT_COLUMNS, _server_zone(request)))
