"""Capacity-aware placement of maintenance-window tasks (R23).

An occurrence of length L, with expected task duration d, takes at most
`cap × (⌊(L − d) / d⌋ + 1)` starts per scale unit with that cap, and the global cap
(UCFLEET_MAX_CONCURRENT_TASKS) likewise for all tasks together; tenants without a scale
unit count against the global cap only. The open tasks already there (planned and in
progress by their earliest start, held ones that have a period) use up room. Tenants are
placed in the order given, each in the first occurrence with room for its unit and
globally; occurrences a platform maintenance blocks (R8) are skipped.
docs/decisions/0007-capacity-placement.md has the rule.

Queries: the window, its slots, the platform maintenances, the caps, and one grouped count
of the existing tasks per (start, unit) over the range of occurrences used (one more per
extension of that range, which doubles each time). Python work is linear in the tenants.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from ucfleet.core.errors import Invalid
from ucfleet.core.timeutils import zone
from ucfleet.maintenance import queries as maintenance
from ucfleet.maintenance.windows import Occurrence, occurrences_after, overlaps
from ucfleet.tenants.models import ScaleUnit
from ucfleet.updates.choices import OPEN_STATUSES, Status
from ucfleet.updates.models import UpdateTask

Period = tuple[datetime, datetime]

# The tasks that use up room where their earliest start lies: planned and in progress, and
# held ones that have a period (a paused rollout's). The held tasks of a wave not yet
# released have no latest start: they are placed when the wave is released.
COUNTED = Q(status__in=[s for s in OPEN_STATUSES if s != Status.HELD]) | Q(
    status=Status.HELD, latest_start__isnull=False
)

# How far ahead an occurrence may lie (as maintenance.windows.next_window_after).
HORIZON = timedelta(days=400)
# Serializes placements on PostgreSQL until commit (SQLite: BEGIN IMMEDIATE already does).
PLACEMENT_LOCK_KEY = 0x75636670  # "ucfp"


def starts_per_slot(length: timedelta, expected: timedelta) -> int:
    """⌊(L − d) / d⌋ + 1: how many tasks one cap slot can start one after the other in an
    occurrence of length L (0 when a task does not fit at all)."""
    if expected <= timedelta(0) or length < expected:
        return 0
    return (length - expected) // expected + 1


@dataclass(slots=True)
class _Slot:
    """One usable occurrence: its task period and the room used in it so far."""

    start: datetime
    end: datetime
    period: Period
    starts: int
    used: int = 0
    used_by_unit: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class _Occurrences:
    """The usable occurrences after `now`, in order, read lazily; the existing tasks are
    counted for each range of occurrences when it is first reached."""

    def __init__(self, now: datetime, *, ignore: Q | None, initial: int) -> None:
        window = maintenance.get_window()
        self.expected = timedelta(minutes=window.expected_task_minutes)
        self.blocked = maintenance.blocked_periods(now)
        slots = maintenance.window_slots(window)
        self._source: Iterator[Occurrence] = occurrences_after(slots, zone(window.time_zone), now)
        self._limit = now + HORIZON
        self._ignore = ignore
        self._next_batch = max(1, initial)
        self._exhausted = False
        self.slots: list[_Slot] = []

    def get(self, index: int) -> _Slot | None:
        while index >= len(self.slots) and not self._exhausted:
            self._extend(self._next_batch)
            self._next_batch *= 2
        return self.slots[index] if index < len(self.slots) else None

    def _usable(self) -> Iterator[_Slot]:
        for occurrence in self._source:
            if occurrence.start > self._limit:
                return
            latest = occurrence.latest_start(self.expected)
            starts = starts_per_slot(occurrence.end - occurrence.start, self.expected)
            if starts and not overlaps(occurrence.start, latest, self.blocked):
                yield _Slot(occurrence.start, occurrence.end, (occurrence.start, latest), starts)

    def _extend(self, count: int) -> None:
        new: list[_Slot] = []
        for slot in self._usable():
            new.append(slot)
            if len(new) == count:
                break
        else:
            self._exhausted = True
        if new:
            self._count_existing(new)
            self.slots += new

    def _count_existing(self, new: list[_Slot]) -> None:
        """One grouped query: open tasks per (earliest start, unit) in the new range; each
        counts in the occurrence whose [start, end) holds its earliest start."""
        tasks = UpdateTask.objects.filter(
            COUNTED,
            earliest_start__gte=new[0].start,
            earliest_start__lt=max(s.end for s in new),
        )
        if self._ignore is not None:
            tasks = tasks.exclude(self._ignore)
        rows = (
            tasks.values_list("earliest_start", "tenant__scale_unit_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        starts = [s.start for s in new]
        for start, unit, n in rows:
            index = bisect_right(starts, start) - 1
            if index < 0 or start >= new[index].end:
                continue  # between occurrences, or in a blocked one
            slot = new[index]
            slot.used += n
            if unit is not None:
                slot.used_by_unit[unit] += n


def _take_placement_lock() -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLACEMENT_LOCK_KEY])


def _initial_range(units: list[int | None], caps: dict[int, int], global_cap: int) -> int:
    """A first guess of how many occurrences the request needs (assuming 8 starts each)."""
    demand: dict[int | None, int] = defaultdict(int)
    for unit in units:
        demand[unit] += 1
    guesses = [-(-len(units) // (global_cap * 8))]
    guesses += [-(-n // (caps[u] * 8)) for u, n in demand.items() if u is not None and caps.get(u)]
    return max(guesses)


def place(
    rows: Iterable[tuple[int, int | None]], *, now: datetime, ignore: Q | None = None
) -> list[Period | None]:
    """Like `place_in_windows`, but a tenant that finds no room within the horizon gets None
    (the missed-window sweep fails such tasks instead of refusing the sweep)."""
    units = [unit for _tenant, unit in rows]
    if not units:
        return []
    _take_placement_lock()
    caps = dict(ScaleUnit.objects.values_list("id", "max_concurrent_tasks"))
    global_cap = settings.UCFLEET["MAX_CONCURRENT_TASKS"]
    occurrences = _Occurrences(now, ignore=ignore, initial=_initial_range(units, caps, global_cap))
    placed: list[Period | None] = []
    # The first occurrence that may still have room: globally, and per unit (None: the
    # tenants without a unit). Room only shrinks, so an occurrence skipped once by a tenant
    # of a unit is skipped by every later one: each pointer only moves forward.
    global_next = 0
    unit_next: dict[int | None, int] = defaultdict(int)
    for unit in units:
        cap = caps.get(unit) if unit is not None else None
        if cap == 0:  # a unit that starts no task has no room anywhere
            placed.append(None)
            continue
        index = max(global_next, unit_next[unit])
        while (slot := occurrences.get(index)) is not None:
            if slot.used >= global_cap * slot.starts:
                if index == global_next:
                    global_next += 1
            elif cap is None or slot.used_by_unit[unit] < cap * slot.starts:  # type: ignore[index]
                break
            index += 1
            unit_next[unit] = index
        if slot is None:
            placed.append(None)
            continue
        slot.used += 1
        if cap is not None:
            slot.used_by_unit[unit] += 1  # type: ignore[index]
        placed.append(slot.period)
    return placed


def place_in_windows(
    rows: Iterable[tuple[int, int | None]], *, now: datetime, ignore: Q | None = None
) -> list[Period]:
    """Each tenant's (earliest start, latest start), given tenants as (id, scale unit id) in
    order: the first maintenance-window occurrences after `now` with room (R23, see the
    module). `ignore` leaves matching tasks out of the count (e.g. the held tasks of the wave
    being placed). Raises Invalid (field "timing") when the window never occurs unblocked,
    or when some tenants find no room within the next 400 days."""
    rows = list(rows)
    placed = place(rows, now=now, ignore=ignore)
    missing = sum(1 for period in placed if period is None)
    if missing:
        raise Invalid.field(
            "timing",
            _(
                "%(missing)d of the %(total)d UC tenants find no maintenance window occurrence "
                "with room within %(days)d days: the scale units' caps and the global cap allow "
                "no more starts. Choose fewer UC tenants or another timing."
            )
            % {"missing": missing, "total": len(rows), "days": HORIZON.days},
            code="no_room",
        )
    return [period for period in placed if period is not None]
