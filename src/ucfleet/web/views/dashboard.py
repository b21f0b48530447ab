"""Dashboard: task counts by status, the next windows, running and failed tasks, a chart."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ucfleet.core.timeutils import localize
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import (
    upcoming_maintenances,
    upcoming_windows_for_tasks,
)
from ucfleet.tenants.queries import tenants_visible_to
from ucfleet.updates.choices import Status
from ucfleet.updates.queries import tasks_visible_to, with_list_relations
from ucfleet.web.charts import per_day_chart
from ucfleet.web.views.common import render_area

CHART_DAYS = 21
RECENT_FAILURE_DAYS = 7


def status_counts(admin: Any) -> dict[str, int]:
    """One aggregate query for every status."""
    counts = tasks_visible_to(admin).aggregate(
        **{status.value: Count("id", filter=Q(status=status.value)) for status in Status}
    )
    return {key: value or 0 for key, value in counts.items()}


def planned_per_day(admin: Any, *, days: int) -> dict[Any, int]:
    """Planned tasks per server-time day; overdue planned tasks count on today."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    end = localize(datetime.combine(today + timedelta(days=days), time.min), zone)  # type: ignore[arg-type]
    rows = (
        tasks_visible_to(admin)
        .filter(status=Status.PLANNED, earliest_start__lt=end)
        .annotate(day=TruncDate("earliest_start", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[Any, int] = {}
    for row in rows:
        day = max(row["day"], today)
        counts[day] = counts.get(day, 0) + row["n"]
    return counts


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    now = utcnow()
    tasks = with_list_relations(tasks_visible_to(admin))
    tenant_totals = tenants_visible_to(admin).aggregate(
        total=Count("id"),
        recommended=Count("id", filter=Q(version__recommend_update=True)),
        auto_off=Count("id", filter=Q(auto_update_allowed=False)),
    )
    windows, next_free = upcoming_windows_for_tasks(5)
    context = {
        "nav": "dashboard",
        "counts": status_counts(admin),
        "tenant_totals": tenant_totals,
        "chart": per_day_chart(
            planned_per_day(admin, days=CHART_DAYS), first_day=timezone.localdate(), days=CHART_DAYS
        ),
        "occurrences": [
            {"start": o.start, "end": o.end, "blocked": blocked} for o, blocked in windows
        ],
        "next_task_window": next_free,
        "maintenances": list(upcoming_maintenances()[:3]),
        "running": list(tasks.filter(status=Status.IN_PROGRESS).order_by("started", "id")[:10]),
        "failed": list(
            tasks.filter(
                status=Status.FAILED, finished__gte=now - timedelta(days=RECENT_FAILURE_DAYS)
            ).order_by("-finished", "-id")[:10]
        ),
        "now": now,
    }
    return render_area(request, "dashboard", context)
