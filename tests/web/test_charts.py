"""The dashboard's bar chart geometry (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from ucfleet.web.charts import nice_ceiling, per_day_chart


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (1, 1), (3, 5), (5, 5), (7, 10), (11, 20), (120, 200), (5001, 10000)],
)
def test_axis_top_is_a_round_number_at_or_above_the_maximum(value, expected):
    assert nice_ceiling(value) == expected


def test_bars_scale_to_the_plot_and_empty_days_have_no_height():
    first = date(2026, 11, 27)  # a Friday
    chart = per_day_chart({first: 10, date(2026, 11, 29): 5}, first_day=first, days=7)
    assert len(chart.bars) == 7 and chart.total == 15
    tallest, _, half = chart.bars[0], chart.bars[1], chart.bars[2]
    assert tallest.height == chart.plot_bottom - chart.plot_top
    assert half.height == pytest.approx(tallest.height / 2, abs=0.1)
    assert chart.bars[1].height == 0 and chart.bars[1].value == 0
    assert [b.is_weekend for b in chart.bars] == [False, True, True, False, False, False, False]
    assert [g.value for g in chart.grid] == [0, 2, 4, 6, 8, 10]
    assert chart.bars[0].show_month and not chart.bars[1].show_month


def test_bars_do_not_overlap_and_stay_inside_the_chart():
    first = date(2026, 12, 25)
    chart = per_day_chart({first: 1}, first_day=first, days=21)
    for left, right in zip(chart.bars, chart.bars[1:], strict=False):
        assert left.x + left.width < right.x
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.width
    assert chart.bars[7].show_month  # 1 January names its month
