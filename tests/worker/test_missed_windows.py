"""R12: tasks whose latest start passed before a worker could start them."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.notifications.helpers import close_failure_digests
from tests.worker.conftest import ago
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.maintenance import services as maintenance_services
from ucfleet.maintenance.queries import next_task_window
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.execution import START_WINDOW_MISSED, handle_missed_windows
from ucfleet.updates.models import UpdateTask

DAILY_0100_FOR_4H = maintenance_services.SlotInput(
    weekdays=list(range(7)), start=time(1, 0), duration_minutes=240
)


def _daily_window(admin):
    maintenance_services.update_window(
        admin, time_zone="Europe/Berlin", slots=[DAILY_0100_FOR_4H], expected_task_minutes=30
    )


def test_a_missed_maintenance_window_task_moves_to_the_next_occurrence(
    burst, make_tasks, platform_admin, partner_admin
):
    _daily_window(platform_admin)
    old_start, old_latest = ago(hours=5), ago(hours=2)
    [task] = make_tasks(
        1,
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=old_start,
        latest_start=old_latest,
        notify_partner=True,
    )

    summary = burst()

    task.refresh_from_db()
    expected = next_task_window(timezone.now())
    assert summary.missed_moved == [task.pk] and summary.executed == []
    assert task.status == Status.PLANNED
    assert task.earliest_start == expected.start > timezone.now()
    assert task.latest_start == expected.end - timedelta(minutes=30)
    entry = ChangeLogEntry.objects.get(action="reschedule", object_id=str(task.pk))
    assert entry.actor_id is None and entry.actor_name == "system"
    assert entry.old == old_start.isoformat() and entry.new == expected.start.isoformat()
    # Its recipients are told the new date.
    mail = Notification.objects.get(kind=Kind.RESCHEDULED_PARTNER)
    assert list(mail.tasks.all()) == [task]
    assert partner_admin.email in mail.recipients


def test_a_missed_custom_time_task_fails_and_the_partner_is_told(
    burst, make_tasks, partner_admin, mailoutbox
):
    [task] = make_tasks(
        1, timing=Timing.CUSTOM, earliest_start=ago(hours=3), latest_start=ago(hours=1)
    )

    summary = burst()

    task.refresh_from_db()
    assert summary.missed_failed == [task.pk]
    assert task.status == Status.FAILED
    assert task.failure_reason == START_WINDOW_MISSED == "start window missed"
    assert not task.attempts.exists()
    assert ChangeLogEntry.objects.filter(action="fail", object_id=str(task.pk)).exists()
    # The failure waits for its hour's digest (§9): nothing was sent yet.
    assert mailoutbox == [] and not Notification.objects.exists()
    close_failure_digests()  # the hour has closed
    mail = Notification.objects.get(kind=Kind.FAILED_PARTNER)
    assert list(mail.tasks.all()) == [task]
    # The worker process is also the e-mail sender: its next turn sends the digest.
    burst()
    assert [m.to for m in mailoutbox] == [[partner_admin.email]]


def test_a_window_task_fails_when_no_window_occurs_any_more(burst, make_tasks):
    [task] = make_tasks(
        1,
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=ago(hours=5),
        latest_start=ago(hours=2),
    )
    burst()
    task.refresh_from_db()
    assert task.status == Status.FAILED and task.failure_reason == START_WINDOW_MISSED


def test_tasks_whose_latest_start_lies_ahead_are_left_alone(burst, make_tasks, platform_admin):
    _daily_window(platform_admin)
    [task] = make_tasks(
        1,
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=timezone.now() + timedelta(hours=1),
        latest_start=timezone.now() + timedelta(hours=4),
    )
    summary = burst()
    assert summary.missed_moved == summary.missed_failed == []
    task.refresh_from_db()
    assert task.status == Status.PLANNED


def test_a_task_missed_during_a_platform_maintenance_moves_past_it(
    burst, make_tasks, platform_admin
):
    _daily_window(platform_admin)
    # The next window's task period is blocked by a maintenance: the one after is used.
    first = next_task_window(timezone.now())
    maintenance_services.create_maintenance(
        platform_admin,
        start=first.start - timedelta(minutes=5),
        end=first.start + timedelta(hours=1),
    )
    [task] = make_tasks(
        1, timing=Timing.MAINTENANCE_WINDOW, earliest_start=ago(hours=5), latest_start=ago(hours=2)
    )
    burst()
    task.refresh_from_db()
    assert task.status == Status.PLANNED
    assert task.earliest_start > first.start
    assert task.earliest_start == next_task_window(timezone.now()).start


def _miss(make_tasks, n):
    """`n` tasks that missed their start, in three groups whatever `n` is: custom-time tasks
    (they fail) and window tasks of two past windows (they move)."""
    per_window = n // 3
    failing = make_tasks(
        n - 2 * per_window,
        timing=Timing.CUSTOM,
        earliest_start=ago(hours=3),
        latest_start=ago(hours=1),
    )
    moving = [
        *make_tasks(
            per_window,
            timing=Timing.MAINTENANCE_WINDOW,
            earliest_start=ago(hours=5),
            latest_start=ago(hours=2),
            notify_partner=True,
            notify_customer=True,
        ),
        *make_tasks(
            per_window,
            timing=Timing.MAINTENANCE_WINDOW,
            earliest_start=ago(days=1, hours=5),
            latest_start=ago(days=1, hours=2),
        ),
    ]
    return sorted(t.pk for t in failing), sorted(t.pk for t in moving)


def _queries_to_handle(make_tasks, n):
    failing, moving = _miss(make_tasks, n)
    with CaptureQueriesContext(connection) as queries:
        result = handle_missed_windows()
    assert (sorted(result.failed), sorted(result.moved)) == (failing, moving)
    return len(queries)


def test_missed_windows_cost_the_same_queries_for_5_or_40_tasks(
    db, make_tasks, platform_admin, partner_admin, advanced_partner_admin
):
    # (At most 99 change-log rows per sweep here: Django inserts them into SQLite in
    # statements of 99 rows, the only part that grows, by one query per 99 tasks.)
    _daily_window(platform_admin)
    _queries_to_handle(make_tasks, 3)  # warm-up: caches filled by a first sweep
    few = _queries_to_handle(make_tasks, 5)
    many = _queries_to_handle(make_tasks, 40)
    assert few == many
    # Each failure and each move was written and told: one digest per partner
    # administrator per sweep, not one e-mail per task.
    failed = UpdateTask.objects.filter(failure_reason=START_WINDOW_MISSED)
    assert failed.count() == 1 + 3 + 14
    close_failure_digests()  # the hour has closed
    failed_mails = Notification.objects.filter(kind=Kind.FAILED_PARTNER)
    assert sorted(m.tasks.count() for m in failed_mails) == [1, 1, 3, 3, 14, 14]
    assert ChangeLogEntry.objects.filter(action="fail").count() == 18
    assert ChangeLogEntry.objects.filter(action="reschedule").count() == 2 * (1 + 1 + 13)
