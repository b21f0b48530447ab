"""Server-side charts: geometry computed here, drawn as inline SVG by a template.

Pure functions (no database, no clock) so they can be tested on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Bar:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    is_weekend: bool
    show_month: bool  # first bar and first of a month carry the month's name


@dataclass(frozen=True)
class GridLine:
    y: float
    value: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    bars: list[Bar]
    grid: list[GridLine]
    total: int


def nice_ceiling(value: int) -> int:
    """The smallest 1/2/5×10ⁿ at or above `value` (≥ 1): clean axis labels."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def per_day_chart(
    counts: dict[date, int], *, first_day: date, days: int, width: int = 720, height: int = 240
) -> BarChart:
    """A bar per day from `first_day` for `days` days; days without tasks show no bar."""
    plot_left, plot_right, plot_top, plot_bottom = 36, width - 8, 16, height - 52
    plot_height = plot_bottom - plot_top
    slot = (plot_right - plot_left) / days
    bar_width = max(4.0, slot * 0.62)
    top = nice_ceiling(max(counts.values(), default=0))
    bars = []
    for index in range(days):
        day = first_day + timedelta(days=index)
        value = counts.get(day, 0)
        bar_height = plot_height * value / top
        x = plot_left + index * slot + (slot - bar_width) / 2
        bars.append(
            Bar(
                day=day,
                value=value,
                x=round(x, 1),
                y=round(plot_bottom - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                label_x=round(plot_left + index * slot + slot / 2, 1),
                is_weekend=day.weekday() >= 5,
                show_month=index == 0 or day.day == 1,
            )
        )
    steps = min(top, 5)  # nice_ceiling values above 5 are multiples of 5: whole labels
    grid = [
        GridLine(y=round(plot_bottom - plot_height * i / steps, 1), value=top * i // steps)
        for i in range(steps + 1)
    ]
    return BarChart(
        width=width,
        height=height,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        plot_left=plot_left,
        bars=bars,
        grid=grid,
        total=sum(counts.values()),
    )


@dataclass(frozen=True)
class StepBar:
    step: str
    label: str
    outcome: str
    y: float
    x: float
    width: float
    seconds: float
    text_x: float  # where the duration is written, right of the bar


@dataclass(frozen=True)
class TimeTick:
    x: float
    seconds: float


@dataclass(frozen=True)
class StepTimeline:
    """The steps of one attempt on a time axis (R24): a row per step, a bar from its start
    to its end, coloured by outcome."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_y: int
    row_height: int
    bars: list[StepBar]
    ticks: list[TimeTick]
    total_seconds: float


def _tick_step(total: float) -> float:
    """About five ticks of a 1/2/5×10ⁿ number of seconds (down to 1 ms)."""
    raw = max(total / 5, 0.001)
    magnitude = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def step_timeline(
    steps: list[tuple[str, str, datetime, datetime, str]],
    *,
    width: int = 720,
    row_height: int = 24,
) -> StepTimeline:
    """`steps` as (step, label, started, finished, outcome) in order. Times are relative to
    the first start; a bar is at least 3 px wide so that an instant step still shows."""
    plot_left, plot_right, top = 120, width - 70, 8
    plot_width = plot_right - plot_left
    origin = min((s[2] for s in steps), default=None)
    end = max((s[3] for s in steps), default=None)
    total = (end - origin).total_seconds() if origin and end else 0.0
    scale = plot_width / total if total > 0 else 0.0
    bars = []
    for index, (step, label, started, finished, outcome) in enumerate(steps):
        assert origin is not None
        offset = (started - origin).total_seconds()
        seconds = max(0.0, (finished - started).total_seconds())
        x = plot_left + offset * scale
        bar_width = max(3.0, seconds * scale)
        bars.append(
            StepBar(
                step=step,
                label=label,
                outcome=outcome,
                y=top + index * row_height,
                x=round(x, 1),
                width=round(min(bar_width, plot_right - x + 3), 1),
                seconds=round(seconds, 3),
                text_x=round(min(x + bar_width, plot_right) + 6, 1),
            )
        )
    axis_y = top + len(steps) * row_height + 4
    ticks: list[TimeTick] = []
    if total > 0:
        tick = _tick_step(total)
        count = int(total / tick + 1e-9)
        ticks = [
            TimeTick(x=round(plot_left + i * tick * scale, 1), seconds=round(i * tick, 3))
            for i in range(count + 1)
        ]
    return StepTimeline(
        width=width,
        height=axis_y + 22,
        plot_left=plot_left,
        plot_right=plot_right,
        axis_y=axis_y,
        row_height=row_height,
        bars=bars,
        ticks=ticks,
        total_seconds=round(total, 3),
    )
