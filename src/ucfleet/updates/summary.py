"""A plan read in one screen (R19): skips and warnings grouped by reason with counts and a
sample of names, planned tenants grouped by their start day (server time).

Pure arithmetic over a SchedulePlan (no queries), so the wizard's preview and the CLI cost
the same whether the request names 5 tenants or 50,000.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ucfleet.updates.choices import SkipReason, WarningCode
from ucfleet.updates.planning import SchedulePlan

SAMPLE = 5


@dataclass
class Group:
    """One reason (or one start day): how many tenants, and the first few names."""

    key: str
    text: str
    count: int = 0
    sample: list[str] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    latest_start: datetime | None = None

    @property
    def more(self) -> int:
        return self.count - len(self.sample)

    def add(self, name: str, sample: int) -> None:
        self.count += 1
        if len(self.sample) < sample:
            self.sample.append(name)


@dataclass
class PlanSummary:
    planned_count: int
    skipped_count: int
    warning_count: int
    by_day: list[Group]
    skips: list[Group]
    warnings: list[Group]


def _grouped(items: Iterable[tuple[str, str, str]], sample: int) -> list[Group]:
    groups: dict[str, Group] = {}
    for key, text, name in items:
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, text)
        group.add(name, sample)
    return sorted(groups.values(), key=lambda g: (-g.count, g.key))


def _label(choices: Any, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def summarize(plan: SchedulePlan, zone: ZoneInfo, *, sample: int = SAMPLE) -> PlanSummary:
    days: dict[date, Group] = {}
    for task in plan.planned:
        day = task.earliest_start.astimezone(zone).date()
        group = days.get(day)
        if group is None:
            group = days[day] = Group(day.isoformat(), day.isoformat())
        group.add(task.tenant_name, sample)
        if group.first is None or task.earliest_start < group.first:
            group.first = task.earliest_start
        if group.last is None or task.earliest_start > group.last:
            group.last = task.earliest_start
        if task.latest_start and (
            group.latest_start is None or task.latest_start > group.latest_start
        ):
            group.latest_start = task.latest_start
    return PlanSummary(
        planned_count=len(plan.planned),
        skipped_count=len(plan.skipped),
        warning_count=len(plan.warnings),
        by_day=[days[d] for d in sorted(days)],
        skips=_grouped(
            ((s.reason, _label(SkipReason, s.reason), s.tenant_name) for s in plan.skipped),
            sample,
        ),
        warnings=_grouped(
            ((w.code, _label(WarningCode, w.code), w.tenant_name) for w in plan.warnings),
            sample,
        ),
    )
