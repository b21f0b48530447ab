"""The update tasks a platform maintenance conflicts with (R8): delete or move them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.core.errors import Invalid
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance import queries as maintenance
from ucfleet.maintenance.queries import get_maintenance
from ucfleet.maintenance.services import require_platform_admin
from ucfleet.updates.capacity import place_in_windows
from ucfleet.updates.choices import Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import refuse_if_in_maintenance
from ucfleet.updates.queries import tasks_conflicting_with
from ucfleet.updates.services.deleting import delete_tasks
from ucfleet.updates.services.rescheduling import move_tasks_to
from ucfleet.updates.services.results import BulkResult


def _first_free_instant(after: datetime) -> datetime:
    """The first instant at or after `after` outside every platform maintenance."""
    moment = after
    while (running := maintenance.running_maintenance(moment)) is not None:
        moment = running.end
    return moment


def resolve_conflicts(admin: Actor, maintenance_id: Any, *, action: str) -> BulkResult:
    """Delete the conflicting tasks (cancellation e-mails) or move them to the next allowed
    time (reschedule e-mails): window tasks to the next free window, others to the end of
    the maintenance."""
    require_platform_admin(admin)
    if action not in {"delete", "move"}:
        raise Invalid.field("action", _("The action must be delete or move."))
    m = get_maintenance(maintenance_id)
    conflicts = tasks_conflicting_with(admin, m.pk)
    if action == "delete":
        return delete_tasks(admin, conflicts)
    result = BulkResult()
    with transaction.atomic():
        by_timing: dict[str, list[UpdateTask]] = defaultdict(list)
        for task in conflicts.annotate(scale_unit_id=F("tenant__scale_unit_id")):
            by_timing[task.timing].append(task)
        for timing, tasks in by_timing.items():
            if timing == Timing.MAINTENANCE_WINDOW:
                periods = _window_periods(tasks)
            else:
                earliest, latest = _next_allowed_period(timing, after=m.end)
                refuse_if_in_maintenance(earliest, latest, field_name="action")
                periods = {t.pk: (earliest, latest) for t in tasks}
            move_tasks_to(admin, tasks, result, periods=periods, timing=timing, notify_partner=True)
    return result


def _window_periods(tasks: list[UpdateTask]) -> dict[int, tuple[datetime, datetime | None]]:
    """Window tasks go to the next free occurrences with room for their scale units (R23),
    in their order; the maintenance blocks their old occurrence, so they are not counted."""
    try:
        rows = [(t.tenant_id, getattr(t, "scale_unit_id", None)) for t in tasks]
        placed = place_in_windows(rows, now=utcnow())
    except Invalid as error:
        raise Invalid.field("action", error.message, code=error.code) from None
    return {t.pk: period for t, period in zip(tasks, placed, strict=True)}


def _next_allowed_period(timing: str, *, after: datetime) -> tuple[datetime, datetime | None]:
    """Immediate and custom tasks start when the maintenance (and any maintenance right
    after it) is over."""
    start = _first_free_instant(after)
    if timing == Timing.IMMEDIATE:
        return start, None
    return start, start + timedelta(minutes=settings.UCFLEET["CUSTOM_START_GRACE_MINUTES"])
