"""Window arithmetic (R2, R3): pure functions, tested exhaustively with hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from ucfleet.core.timeutils import localize
from ucfleet.maintenance.windows import Occurrence, Slot, next_occurrences, next_window_after

BERLIN = ZoneInfo("Europe/Berlin")
SUNDAY_1_TO_5 = [Slot(frozenset({6}), time(1, 0), timedelta(hours=4))]
ZONES = sorted(
    z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_sunday_window_in_winter_is_midnight_utc():
    [first] = next_occurrences(SUNDAY_1_TO_5, BERLIN, utc(2026, 11, 27, 12), 1)
    assert first == Occurrence(utc(2026, 11, 29, 0), utc(2026, 11, 29, 4))


def test_window_on_spring_forward_day_keeps_four_elapsed_hours():
    # 2026-03-29: clocks jump 02:00 → 03:00 in Berlin; 01:00 CET = 00:00 UTC.
    [occ] = next_occurrences(SUNDAY_1_TO_5, BERLIN, utc(2026, 3, 28), 1)
    assert occ == Occurrence(utc(2026, 3, 29, 0), utc(2026, 3, 29, 4))
    assert occ.end.astimezone(BERLIN).hour == 6  # 4 h elapsed cross the skipped hour


def test_start_in_skipped_hour_begins_at_first_valid_instant():
    slots = [Slot(frozenset({6}), time(2, 30), timedelta(hours=1))]
    [occ] = next_occurrences(slots, BERLIN, utc(2026, 3, 28), 1)
    assert occ.start == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, the first instant after the gap
    assert occ.start.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"


def test_start_in_repeated_hour_is_used_once_at_first_instant():
    # 2026-10-25: 02:00–03:00 happens twice in Berlin.
    slots = [Slot(frozenset({6}), time(2, 30), timedelta(minutes=30))]
    occurrences = next_occurrences(slots, BERLIN, utc(2026, 10, 24), 2)
    assert occurrences[0].start == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, first pass
    assert occurrences[1].start - occurrences[0].start == timedelta(days=7, hours=1)


def test_window_crossing_midnight():
    slots = [Slot(frozenset({5}), time(22, 0), timedelta(hours=5))]  # Saturday 22:00 → 03:00
    [occ] = next_occurrences(slots, BERLIN, utc(2026, 11, 27), 1)
    assert occ.start.astimezone(BERLIN).weekday() == 5
    assert occ.end.astimezone(BERLIN).weekday() == 6 and occ.end.astimezone(BERLIN).hour == 3


def test_blocked_occurrence_is_skipped():
    first = next_occurrences(SUNDAY_1_TO_5, BERLIN, utc(2026, 11, 27), 1)[0]
    found = next_window_after(
        SUNDAY_1_TO_5,
        BERLIN,
        utc(2026, 11, 27),
        expected_task=timedelta(minutes=30),
        blocked=[(first.end - timedelta(hours=1), first.end + timedelta(hours=1))],
    )
    assert found.start == first.start + timedelta(days=7)


def test_maintenance_after_latest_start_does_not_block():
    first = next_occurrences(SUNDAY_1_TO_5, BERLIN, utc(2026, 11, 27), 1)[0]
    found = next_window_after(
        SUNDAY_1_TO_5,
        BERLIN,
        utc(2026, 11, 27),
        expected_task=timedelta(minutes=30),
        blocked=[(first.end - timedelta(minutes=10), first.end + timedelta(hours=1))],
    )
    assert found == first


def test_empty_window_never_occurs():
    assert (
        next_window_after([], BERLIN, utc(2026, 1, 1), expected_task=timedelta(minutes=1)) is None
    )
    no_days = [Slot(frozenset(), time(1, 0), timedelta(hours=1))]
    assert next_occurrences(no_days, BERLIN, utc(2026, 1, 1), 3) == []


slots_strategy = st.lists(
    st.builds(
        Slot,
        weekdays=st.frozensets(st.integers(0, 6), min_size=1),
        start=st.times(),
        duration=st.integers(1, 24 * 60).map(lambda m: timedelta(minutes=m)),
    ),
    min_size=1,
    max_size=3,
)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=300, deadline=None)
@given(slots=slots_strategy, zone_name=st.sampled_from(ZONES), after=instants)
def test_occurrences_are_ordered_after_t_and_start_at_a_slot_wall_time(slots, zone_name, after):
    tz = ZoneInfo(zone_name)
    occurrences = next_occurrences(slots, tz, after, 8)
    assert len(occurrences) == 8
    assert all(o.start > after for o in occurrences)
    assert occurrences == sorted(occurrences)
    for occ in occurrences:
        assert any(occ.end - occ.start == s.duration for s in slots)
        local = occ.start.astimezone(tz)
        matching = [
            s
            for s in slots
            if local.weekday() in s.weekdays or (local - timedelta(days=1)).weekday() in s.weekdays
        ]
        # The local start is the slot's wall time, or the end of a DST gap that swallowed it.
        assert any(
            local.time().replace(second=0, microsecond=0)
            == s.start.replace(second=0, microsecond=0)
            or localize(datetime.combine(local.date(), s.start), tz) == occ.start
            for s in matching
        )


@settings(max_examples=300, deadline=None)
@given(slots=slots_strategy, zone_name=st.sampled_from(ZONES), after=instants)
def test_no_occurrence_is_missed_between_t_and_the_next(slots, zone_name, after):
    """The first occurrence after t is never later than an occurrence after t found another way:
    from one week earlier."""
    tz = ZoneInfo(zone_name)
    nxt = next_occurrences(slots, tz, after, 1)[0]
    from_earlier = [
        o for o in next_occurrences(slots, tz, after - timedelta(days=8), 40) if o.start > after
    ]
    assert from_earlier[0] == nxt


@settings(max_examples=500, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    naive=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)),
)
def test_localize_is_the_first_instant_showing_that_wall_time_or_after(zone_name, naive):
    tz = ZoneInfo(zone_name)
    instant = localize(naive, tz)
    shown = instant.astimezone(tz).replace(tzinfo=None)
    assert shown >= naive  # never earlier than asked
    if shown != naive:  # a gap: nothing just before the instant shows a later wall time
        before = (instant - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None)
        assert before < naive
    else:  # an existing time: a repeated hour (1 h, or 30 min on Lord Howe) is used once
        for shift in (timedelta(minutes=30), timedelta(hours=1)):
            assert (instant - shift).astimezone(tz).replace(tzinfo=None) != naive


def test_every_day_of_2026_in_berlin_has_exactly_one_daily_occurrence():
    daily = [Slot(frozenset(range(7)), time(2, 30), timedelta(hours=1))]
    occurrences = next_occurrences(daily, BERLIN, utc(2025, 12, 31, 12), 365)
    days = [o.start.astimezone(BERLIN).date() for o in occurrences]
    assert days == [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
