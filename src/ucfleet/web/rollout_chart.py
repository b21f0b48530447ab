"""The rollout page's timeline chart (R18): executed and failed tasks over time, summed up,
as server-rendered SVG (the CSP allows no scripts that would draw it).

Two queries whatever the rollout's size: the span of the finish times, then the count per
minute, hour or day (whichever gives at most a few hundred points) and outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, QuerySet
from django.db.models.functions import TruncDay, TruncHour, TruncMinute

from ucfleet.updates.choices import Status
from ucfleet.web.charts import nice_ceiling

WIDTH, HEIGHT = 720, 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 48, 704, 12, 182


@dataclass
class Series:
    status: str
    total: int = 0
    points: str = ""  # SVG polyline points


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class GridLine:
    y: float
    value: int


@dataclass
class Timeline:
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PLOT_LEFT
    plot_right: int = PLOT_RIGHT
    plot_bottom: int = PLOT_BOTTOM
    series: list[Series] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    grid: list[GridLine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(s.total for s in self.series)


def _bucket(span: timedelta) -> Any:
    if span <= timedelta(hours=4):
        return TruncMinute
    if span <= timedelta(days=10):
        return TruncHour
    return TruncDay


def timeline(tasks: QuerySet[Any], zone: Any) -> Timeline:
    """`tasks` (the caller's part of a rollout) as cumulative executed / failed lines."""
    ended = tasks.order_by().filter(
        status__in=[Status.EXECUTED, Status.FAILED], finished__isnull=False
    )
    chart = Timeline(series=[Series(Status.EXECUTED), Series(Status.FAILED)])
    span = ended.aggregate(first=Min("finished"), last=Max("finished"))
    first, last = span["first"], span["last"]
    if first is None or last is None:
        return chart
    trunc = _bucket(last - first)
    rows = (
        ended.annotate(at=trunc("finished", tzinfo=zone))
        .values_list("at", "status")
        .annotate(n=Count("id"))
        .order_by("at")
    )
    per: dict[str, list[tuple[datetime, int]]] = {Status.EXECUTED: [], Status.FAILED: []}
    for at, status, n in rows:
        per[status].append((at, n))
    start = min(at for values in per.values() for at, _ in values)
    end = max(at for values in per.values() for at, _ in values)
    seconds = max((end - start).total_seconds(), 60.0)
    top = nice_ceiling(max(sum(n for _, n in values) for values in per.values()))

    def x(at: datetime) -> float:
        return round(
            PLOT_LEFT + (at - start).total_seconds() / seconds * (PLOT_RIGHT - PLOT_LEFT), 1
        )

    def y(value: int) -> float:
        return round(PLOT_BOTTOM - value / top * (PLOT_BOTTOM - PLOT_TOP), 1)

    for series in chart.series:
        total, points = 0, [f"{PLOT_LEFT},{PLOT_BOTTOM}"]
        for at, n in per[series.status]:
            points.append(f"{x(at)},{y(total)}")
            total += n
            points.append(f"{x(at)},{y(total)}")
        points.append(f"{PLOT_RIGHT},{y(total)}")
        series.total, series.points = total, " ".join(points)
    chart.grid = [GridLine(y=y(v), value=v) for v in (0, top // 2, top) if v or top]
    label = "%H:%M" if end - start < timedelta(days=1) else "%Y-%m-%d %H:%M"
    chart.ticks = [
        Tick(x=x(at), label=at.astimezone(zone).strftime(label))
        for at in (start + (end - start) * i / 4 for i in range(5))
    ]
    return chart
