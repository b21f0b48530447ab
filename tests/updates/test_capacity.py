"""R23: maintenance-window tasks go to occurrences that have room for them.

The window here is daily 01:00 UTC for L = 100 minutes with d = 30 minutes expected per
task: one cap slot starts ⌊(100 − 30) / 30⌋ + 1 = 3 tasks per occurrence, so a unit with
cap 2 takes 6 starts.
"""

from __future__ import annotations

import threading
import time as clock
from collections import Counter
from datetime import time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ScaleUnitFactory, TenantFactory, UpdateTaskFactory
from ucfleet.core.errors import Invalid
from ucfleet.core.timeutils import format_server_time
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import next_task_window, server_zone
from ucfleet.maintenance.services import SlotInput, update_window
from ucfleet.maintenance.windows import Occurrence
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.rollouts.models import RolloutWave
from ucfleet.rollouts.releasing import release_wave
from ucfleet.updates.capacity import place_in_windows, starts_per_slot
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.execution import handle_missed_windows
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import (
    ScheduleRequest,
    preview_updates,
    resolve_conflicts,
    schedule_updates,
)

L, D, CAP = 100, 30, 2
STARTS = (L - D) // D + 1  # 3
ROOM = CAP * STARTS  # 6


@pytest.fixture
def window(platform_admin):
    return update_window(
        platform_admin,
        time_zone="UTC",
        slots=[SlotInput(weekdays=list(range(7)), start=time(1, 0), duration_minutes=L)],
        expected_task_minutes=D,
    )


@pytest.fixture
def unit(db):
    return ScaleUnitFactory(name="cap-2", max_concurrent_tasks=CAP)


@pytest.fixture
def global_cap(settings):
    def set_cap(cap: int) -> None:
        settings.UCFLEET = {**settings.UCFLEET, "MAX_CONCURRENT_TASKS": cap}

    return set_cap


def occurrences(count: int) -> list[Occurrence]:
    found = [next_task_window(timezone.now())]
    while len(found) < count:
        found.append(next_task_window(found[-1].start))
    return found


def tenants_on(unit, partner, versions, count):
    return [
        TenantFactory(partner=partner, version=versions["current"], scale_unit=unit)
        for _ in range(count)
    ]


def window_request(tenants, versions, **options):
    return ScheduleRequest(
        tenant_ids=[t.pk for t in tenants],
        timing=Timing.MAINTENANCE_WINDOW,
        target_version=versions["new"].pk,
        **options,
    )


def starts_of(tenants) -> list:
    by_tenant = dict(
        UpdateTask.objects.filter(tenant__in=tenants).values_list("tenant_id", "earliest_start")
    )
    return [by_tenant[t.pk] for t in tenants]


@pytest.mark.parametrize(
    ("length", "expected", "starts"),
    [(100, 30, 3), (90, 30, 3), (89, 30, 2), (30, 30, 1), (29, 30, 0), (240, 30, 8)],
)
def test_starts_per_slot_is_the_formula(length, expected, starts):
    assert starts_per_slot(timedelta(minutes=length), timedelta(minutes=expected)) == starts


def test_a_unit_cap_spreads_the_request_over_two_occurrences(
    platform_admin, window, unit, partner_a, versions
):
    tenants = tenants_on(unit, partner_a, versions, ROOM + 3)
    first, second = occurrences(2)

    result = schedule_updates(platform_admin, window_request(tenants, versions))

    assert result.created_count == ROOM + 3
    assert starts_of(tenants) == [first.start] * ROOM + [second.start] * 3
    latest = dict(UpdateTask.objects.values_list("earliest_start", "latest_start").distinct())
    assert latest == {
        first.start: first.end - timedelta(minutes=D),
        second.start: second.end - timedelta(minutes=D),
    }


def test_the_global_cap_spreads_tenants_without_a_unit_likewise(
    platform_admin, window, partner_a, versions, global_cap
):
    global_cap(CAP)
    tenants = tenants_on(None, partner_a, versions, ROOM + 3)
    first, second = occurrences(2)

    schedule_updates(platform_admin, window_request(tenants, versions))

    assert starts_of(tenants) == [first.start] * ROOM + [second.start] * 3


def test_the_global_cap_counts_tasks_of_every_unit(
    platform_admin, window, partner_a, versions, global_cap
):
    global_cap(3)  # 9 starts per occurrence for all units together
    units = [ScaleUnitFactory(max_concurrent_tasks=10) for _ in range(2)]
    tenants = [t for u in units for t in tenants_on(u, partner_a, versions, 6)]
    first, second = occurrences(2)

    schedule_updates(platform_admin, window_request(tenants, versions))

    assert Counter(starts_of(tenants)) == {first.start: 9, second.start: 3}


def test_a_full_unit_does_not_hold_up_another_unit(
    platform_admin, window, unit, partner_a, versions
):
    other = ScaleUnitFactory(max_concurrent_tasks=1)  # 3 starts
    full = tenants_on(unit, partner_a, versions, ROOM + 1)
    others = tenants_on(other, partner_a, versions, 3)
    without_unit = tenants_on(None, partner_a, versions, 2)
    first, second = occurrences(2)

    schedule_updates(platform_admin, window_request(full + others + without_unit, versions))

    assert starts_of(full) == [first.start] * ROOM + [second.start]
    assert starts_of(others) == [first.start] * 3
    assert starts_of(without_unit) == [first.start] * 2


def test_tasks_already_planned_there_reduce_the_room(
    platform_admin, window, unit, partner_a, versions
):
    first, second = occurrences(2)
    for tenant in tenants_on(unit, partner_a, versions, 2):
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            timing=Timing.CUSTOM,
            earliest_start=first.start + timedelta(minutes=10),
            latest_start=first.start + timedelta(minutes=40),
        )
    # Ended tasks and tasks of another unit leave the room as it is.
    other = ScaleUnitFactory(max_concurrent_tasks=5)
    for tenant in tenants_on(other, partner_a, versions, 3):
        UpdateTaskFactory(tenant=tenant, target_version=versions["new"], earliest_start=first.start)
    UpdateTaskFactory(
        tenant=tenants_on(unit, partner_a, versions, 1)[0],
        target_version=versions["new"],
        earliest_start=first.start,
        status=Status.CANCELLED,
    )
    tenants = tenants_on(unit, partner_a, versions, ROOM + 3)

    schedule_updates(platform_admin, window_request(tenants, versions))

    assert starts_of(tenants) == [first.start] * (ROOM - 2) + [second.start] * 5


def test_a_second_request_fills_up_after_the_first(
    platform_admin, window, unit, partner_a, versions
):
    first, second, third = occurrences(3)
    earlier = tenants_on(unit, partner_a, versions, ROOM - 1)
    schedule_updates(platform_admin, window_request(earlier, versions))
    later = tenants_on(unit, partner_a, versions, ROOM + 2)

    schedule_updates(platform_admin, window_request(later, versions))

    assert starts_of(later) == [first.start] + [second.start] * ROOM + [third.start]


def test_an_occurrence_blocked_by_a_platform_maintenance_is_skipped(
    platform_admin, window, unit, partner_a, versions
):
    first, second, third = occurrences(3)
    PlatformMaintenance.objects.create(
        start=second.start - timedelta(minutes=5), end=second.start + timedelta(minutes=20)
    )
    tenants = tenants_on(unit, partner_a, versions, ROOM + 3)

    schedule_updates(platform_admin, window_request(tenants, versions))

    assert starts_of(tenants) == [first.start] * ROOM + [third.start] * 3


def test_the_preview_shows_each_tenants_date_as_create_makes_it(
    platform_admin, window, unit, partner_a, versions
):
    tenants = tenants_on(unit, partner_a, versions, ROOM + 3)
    first, second = occurrences(2)

    plan = preview_updates(platform_admin, window_request(tenants, versions))

    assert not UpdateTask.objects.exists()
    assert [p.earliest_start for p in plan.planned] == [first.start] * ROOM + [second.start] * 3
    assert plan.periods() == [
        (first.start, first.end - timedelta(minutes=D), ROOM),
        (second.start, second.end - timedelta(minutes=D), 3),
    ]
    schedule_updates(platform_admin, window_request(tenants, versions))
    assert starts_of(tenants) == [p.earliest_start for p in plan.planned]


def test_the_partner_email_names_both_dates_and_each_customer_its_own(
    platform_admin, partner_admin, window, unit, partner_a, versions
):
    tenants = tenants_on(unit, partner_a, versions, ROOM + 3)
    first, second = occurrences(2)

    schedule_updates(
        platform_admin,
        window_request(tenants, versions, notify_partner=True, notify_customer=True),
    )

    tz = server_zone()
    one, two = format_server_time(first.start, tz), format_server_time(second.start, tz)
    [digest] = Notification.objects.filter(kind=Kind.CREATED_PARTNER)
    assert partner_admin.email in digest.recipients
    assert digest.body.count(one) == ROOM and digest.body.count(two) == 3
    last = Notification.objects.get(kind=Kind.CREATED_CUSTOMER, tasks__tenant=tenants[-1])
    assert two in last.subject and one not in last.body


def test_a_unit_that_starts_nothing_is_refused_and_nothing_is_written(
    platform_admin, window, partner_a, versions
):
    closed = ScaleUnitFactory(max_concurrent_tasks=0)
    tenants = tenants_on(closed, partner_a, versions, 2)

    with pytest.raises(Invalid) as error:
        schedule_updates(platform_admin, window_request(tenants, versions))

    assert error.value.code == "no_room" and "timing" in error.value.errors
    assert not UpdateTask.objects.exists()


def test_placement_queries_do_not_grow_with_the_tenants(window, unit, partner_a, versions):
    small = [(t.pk, unit.pk) for t in tenants_on(unit, partner_a, versions, 5)]
    large = [(t.pk, unit.pk) for t in tenants_on(unit, partner_a, versions, 60)]
    with CaptureQueriesContext(connection) as few:
        place_in_windows(small, now=timezone.now())
    with CaptureQueriesContext(connection) as many:
        placed = place_in_windows(large, now=timezone.now())
    assert len(set(placed)) == 10  # 60 tenants over 10 occurrences of 6
    assert len(many.captured_queries) <= len(few.captured_queries) + 1


def test_a_missed_window_task_moves_to_the_next_occurrence_with_room(
    platform_admin, window, unit, partner_a, versions
):
    _first, second = occurrences(2)
    filling = tenants_on(unit, partner_a, versions, ROOM)
    schedule_updates(platform_admin, window_request(filling, versions))
    now = timezone.now()
    [missed] = [
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            timing=Timing.MAINTENANCE_WINDOW,
            earliest_start=now - timedelta(hours=3),
            latest_start=now - timedelta(hours=1),
        )
        for tenant in tenants_on(unit, partner_a, versions, 1)
    ]

    assert handle_missed_windows(at=now).moved == [missed.pk]

    missed.refresh_from_db()
    assert (missed.earliest_start, missed.latest_start) == (
        second.start,
        second.end - timedelta(minutes=D),
    )


def test_moving_conflicting_window_tasks_respects_room(
    platform_admin, window, unit, partner_a, versions
):
    first, second, third = occurrences(3)
    moving = tenants_on(unit, partner_a, versions, 2)
    schedule_updates(platform_admin, window_request(moving, versions))
    staying = tenants_on(unit, partner_a, versions, ROOM - 1)
    for tenant in staying:
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            timing=Timing.MAINTENANCE_WINDOW,
            earliest_start=second.start,
            latest_start=second.end - timedelta(minutes=D),
        )
    maintenance = PlatformMaintenance.objects.create(
        start=first.start, end=first.start + timedelta(minutes=15)
    )

    result = resolve_conflicts(platform_admin, maintenance.pk, action="move")

    assert len(result.done) == 2
    assert starts_of(moving) == [second.start, third.start]


def test_held_waves_reserve_no_room_and_are_placed_with_room_when_released(
    platform_admin, window, unit, partner_a, versions
):
    first, second, third = occurrences(3)
    rollout_tenants = tenants_on(unit, partner_a, versions, ROOM + 3)
    result = schedule_updates(
        platform_admin,
        window_request(rollout_tenants, versions, waves=[{"count": ROOM}, {"percent": 100}]),
    )
    held = UpdateTask.objects.filter(rollout=result.rollout, status=Status.HELD)
    assert held.count() == 3 and set(held.values_list("latest_start", flat=True)) == {None}
    assert starts_of(rollout_tenants[:ROOM]) == [first.start] * ROOM
    # The preview's summary of dates names wave 1 only: held tenants get theirs at release.
    assert result.plan.periods() == [(first.start, first.end - timedelta(minutes=D), ROOM)]
    # Another request: the first occurrence is full, the held wave takes nothing.
    others = tenants_on(unit, partner_a, versions, ROOM - 2)
    schedule_updates(platform_admin, window_request(others, versions))
    assert starts_of(others) == [second.start] * (ROOM - 2)

    wave = RolloutWave.objects.get(rollout=result.rollout, index=2)
    released = release_wave(wave.pk)

    assert len(released) == 3
    assert starts_of(rollout_tenants[ROOM:]) == [second.start] * 2 + [third.start]
    assert set(UpdateTask.objects.filter(pk__in=released).values_list("status", flat=True)) == {
        Status.PLANNED
    }


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_racing_requests_do_not_overfill_an_occurrence(
    platform_admin, window, unit, partner_a, versions
):
    """The placement lock: the second request counts the first one's tasks, although they
    were uncommitted when it began."""
    first_occurrence, second_occurrence = occurrences(2)
    groups = [tenants_on(unit, partner_a, versions, ROOM - 1) for _ in range(2)]
    first_placed = threading.Event()

    def first():
        try:
            with transaction.atomic():
                schedule_updates(platform_admin, window_request(groups[0], versions))
                first_placed.set()
                clock.sleep(0.5)  # uncommitted while the second request plans
        finally:
            first_placed.set()
            connection.close()

    def second():
        first_placed.wait(10)
        try:
            schedule_updates(platform_admin, window_request(groups[1], versions))
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert starts_of(groups[0]) == [first_occurrence.start] * (ROOM - 1)
    assert starts_of(groups[1]) == [first_occurrence.start] + [second_occurrence.start] * (ROOM - 2)
