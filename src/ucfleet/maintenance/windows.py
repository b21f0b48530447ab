"""Pure window arithmetic: weekly slots in an IANA zone → concrete UTC occurrences.

No database, no clock: every function takes the instant to reason from, so it can be tested
exhaustively (tests/maintenance/test_windows.py runs hypothesis over zones and dates).

Rules (R3): a slot's start is a local wall time; its duration is elapsed time, so a window
may cross midnight and a DST change. A start inside a skipped hour begins at the first valid
instant after the gap; a start inside a repeated hour is used once, at its first instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ucfleet.core.timeutils import localize


@dataclass(frozen=True)
class Slot:
    weekdays: frozenset[int]  # 0 = Monday … 6 = Sunday
    start: time
    duration: timedelta


@dataclass(frozen=True, order=True)
class Occurrence:
    start: datetime  # aware, UTC
    end: datetime

    def latest_start(self, expected_task: timedelta) -> datetime:
        """The last instant a task may start and still end inside the window (R2)."""
        return max(self.start, self.end - expected_task)


def occurrences_on(slots: Sequence[Slot], tz: ZoneInfo, day: date) -> list[Occurrence]:
    found = []
    for slot in slots:
        if day.weekday() in slot.weekdays:
            start = localize(datetime.combine(day, slot.start), tz)
            found.append(Occurrence(start, start + slot.duration))
    return sorted(found)


def occurrences_after(slots: Sequence[Slot], tz: ZoneInfo, after: datetime) -> Iterator[Occurrence]:
    """Occurrences starting strictly after `after`, in order, without end.

    Yields nothing when no slot has a weekday (an empty window never occurs).
    """
    if not any(slot.weekdays for slot in slots):
        return
    day = after.astimezone(tz).date() - timedelta(days=1)
    while True:
        for occurrence in occurrences_on(slots, tz, day):
            if occurrence.start > after:
                yield occurrence
        day += timedelta(days=1)


def overlaps(start: datetime, end: datetime, periods: Iterable[tuple[datetime, datetime]]) -> bool:
    """Whether [start, end] touches any of the half-open periods [p_start, p_end)."""
    return any(p_start <= end and start < p_end for p_start, p_end in periods)


def next_window_after(
    slots: Sequence[Slot],
    tz: ZoneInfo,
    after: datetime,
    *,
    expected_task: timedelta,
    blocked: Sequence[tuple[datetime, datetime]] = (),
    horizon: timedelta = timedelta(days=400),
) -> Occurrence | None:
    """The next occurrence after `after` whose task period [start, latest start] is not blocked
    by a platform maintenance; None when there is none within `horizon`."""
    limit = after + horizon
    for occurrence in occurrences_after(slots, tz, after):
        if occurrence.start > limit:
            return None
        if not overlaps(occurrence.start, occurrence.latest_start(expected_task), blocked):
            return occurrence
    return None


def next_occurrences(
    slots: Sequence[Slot], tz: ZoneInfo, after: datetime, count: int
) -> list[Occurrence]:
    found: list[Occurrence] = []
    for occurrence in occurrences_after(slots, tz, after):
        found.append(occurrence)
        if len(found) == count:
            break
    return found
