"""Reads about windows and platform maintenance. Visible to every administrator (R8 announces
maintenance even on the login page), so these need no scoping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ucfleet.core.errors import NotFound
from ucfleet.core.ids import lookup_id
from ucfleet.core.timeutils import now as utcnow
from ucfleet.core.timeutils import zone
from ucfleet.maintenance.models import MaintenanceWindow, PlatformMaintenance
from ucfleet.maintenance.windows import (
    Occurrence,
    Slot,
    next_occurrences,
    next_window_after,
    overlaps,
)


def get_window() -> MaintenanceWindow:
    """The platform's single window row, created empty (UTC, no slots) on first use."""
    window = MaintenanceWindow.objects.order_by("id").first()
    if window is None:
        window, _ = MaintenanceWindow.objects.get_or_create(pk=1)
    return window


def server_zone() -> ZoneInfo:
    """The platform's server time zone (R3)."""
    return zone(get_window().time_zone)


def window_slots(window: MaintenanceWindow) -> list[Slot]:
    return [
        Slot(frozenset(s.weekdays), s.start, timedelta(minutes=s.duration_minutes))
        for s in window.slots.all()
    ]


def get_maintenance(pk: Any) -> PlatformMaintenance:
    """One platform maintenance by id (every administrator sees them all, R8), or NotFound."""
    try:
        return PlatformMaintenance.objects.get(pk=lookup_id(pk))
    except (PlatformMaintenance.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such platform maintenance.")) from None


def all_maintenances() -> QuerySet[PlatformMaintenance]:
    """Every platform maintenance, past and future: every administrator sees them (R8)."""
    return PlatformMaintenance.objects.all()


def upcoming_maintenances(*, after: datetime | None = None) -> QuerySet[PlatformMaintenance]:
    """Maintenances not yet ended: the login page announces these (R8)."""
    return PlatformMaintenance.objects.filter(end__gt=after or utcnow()).order_by("start")


def past_maintenances(*, before: datetime | None = None) -> QuerySet[PlatformMaintenance]:
    """Maintenances that have ended, newest first (the portal's history)."""
    return PlatformMaintenance.objects.filter(end__lte=before or utcnow()).order_by("-start")


def running_maintenance(at: datetime | None = None) -> PlatformMaintenance | None:
    moment = at or utcnow()
    return PlatformMaintenance.objects.filter(start__lte=moment, end__gt=moment).first()


def maintenance_overlapping(start: datetime, end: datetime) -> PlatformMaintenance | None:
    """The first maintenance that the period [start, end] touches, if any."""
    return (
        PlatformMaintenance.objects.filter(start__lte=end, end__gt=start).order_by("start").first()
    )


def blocked_periods(after: datetime) -> list[tuple[datetime, datetime]]:
    return list(PlatformMaintenance.objects.filter(end__gt=after).values_list("start", "end"))


def next_task_window(after: datetime | None = None) -> Occurrence | None:
    """R2: the next window occurrence whose task period no platform maintenance blocks."""
    moment = after or utcnow()
    window = get_window()
    return next_window_after(
        window_slots(window),
        zone(window.time_zone),
        moment,
        expected_task=timedelta(minutes=window.expected_task_minutes),
        blocked=blocked_periods(moment),
    )


def upcoming_occurrences(count: int = 5, *, after: datetime | None = None) -> list[Occurrence]:
    window = get_window()
    return next_occurrences(window_slots(window), zone(window.time_zone), after or utcnow(), count)


def upcoming_windows_for_tasks(
    count: int = 5, *, after: datetime | None = None
) -> tuple[list[tuple[Occurrence, bool]], Occurrence | None]:
    """The next window occurrences, each with whether a platform maintenance blocks its task
    period (R2, R8), and the next one that tasks can use (as `next_task_window`)."""
    moment = after or utcnow()
    window = get_window()
    slots, tz = window_slots(window), zone(window.time_zone)
    expected = timedelta(minutes=window.expected_task_minutes)
    blocked = blocked_periods(moment)
    shown = [
        (o, overlaps(o.start, o.latest_start(expected), blocked))
        for o in next_occurrences(slots, tz, moment, count)
    ]
    free = next_window_after(slots, tz, moment, expected_task=expected, blocked=blocked)
    return shown, free
