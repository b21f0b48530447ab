"""CSV exports of the task and tenant lists (R31): the rows the list's current filters and
sort select, through the same filter forms and `*_visible_to` reads as the lists (R1).

Streamed and formula-safe: `audit.exports` writes the rows, the API's `?format=csv` too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ucfleet.audit.exports import TASK_COLUMNS, TENANT_COLUMNS, csv_lines
from ucfleet.web.views.tasks import _filtered_tasks
from ucfleet.web.views.tenants import filtered_tenants


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
    _form, tenants = filtered_tenants(request)
    return csv_response("tenants", csv_lines(tenants, TENANT_COLUMNS, _server_zone(request)))
