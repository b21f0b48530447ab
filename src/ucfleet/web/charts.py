"""Server-side charts: geometry computed here, drawn as inline SVG by a template.

Pure functions (no database, no clock) so they can be tested on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta


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
