"""R25 on the domain side: a waiting task is not due before its next check, holds no cap
slot, gives up after the maximum wait (Immediately) or at its latest start (the sweep)."""

from __future__ import annotations

import shlex
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.notifications.helpers import close_failure_digests
from tests.worker.conftest import ago
from tests.worker.test_missed_windows import _daily_window
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import AttemptOutcome, Status, Timing
from ucfleet.updates.execution import claim_due_tasks, handle_missed_windows
from ucfleet.updates.models import UpdateTask

SCRIPT = Path(__file__).with_name("fake_provisioner.py")


@pytest.fixture
def busy_tenants(ucfleet_settings, monkeypatch):
    """Every tenant the command driver's script sees has 3 active calls."""
    monkeypatch.setenv("FAKE_ACTIVE_CALLS", "3")
    ucfleet_settings(
        DRIVER="command",
        COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}",
        BUSY_RECHECK_SECONDS=60.0,
    )


def test_a_waiting_task_is_due_again_at_its_next_check(make_tasks):
    [task] = make_tasks(1, waiting_reason="busy: 3 active calls", next_check=timezone.now())
    UpdateTask.objects.filter(pk=task.pk).update(next_check=timezone.now() + timedelta(hours=1))
    assert claim_due_tasks(worker_name="w", limit=5) == []
    UpdateTask.objects.filter(pk=task.pk).update(next_check=ago(seconds=1))
    [claim] = claim_due_tasks(worker_name="w", limit=5)
    task.refresh_from_db()
    assert claim.task_id == task.pk and claim.wait_for_idle is True
    assert task.status == Status.IN_PROGRESS and task.waiting_reason == ""
    assert task.next_check is None


def test_a_waiting_task_holds_no_cap_slot(burst, make_tasks, busy_tenants, ucfleet_settings):
    ucfleet_settings(MAX_CONCURRENT_TASKS=1)
    busy = make_tasks(3)

    summary = burst(concurrency=1)

    # One slot, three busy tenants: each was checked in turn, none kept the slot.
    assert sorted(summary.waiting) == sorted(t.pk for t in busy)
    assert not UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists()
    for task in busy:
        task.refresh_from_db()
        assert task.waiting_reason == "busy: 3 active calls"
        assert task.next_check - task.busy_since == timedelta(seconds=60)


def test_an_immediately_task_fails_after_the_maximum_wait(
    burst, make_tasks, busy_tenants, ucfleet_settings, partner_admin
):
    ucfleet_settings(BUSY_MAX_WAIT_MINUTES=30.0)
    [waited, fresh] = make_tasks(2, notify_partner=False)
    UpdateTask.objects.filter(pk=waited.pk).update(busy_since=ago(minutes=31))

    summary = burst()

    waited.refresh_from_db()
    fresh.refresh_from_db()
    assert summary.failed == [waited.pk] and summary.waiting == [fresh.pk]
    assert waited.status == Status.FAILED and waited.failure_reason == "busy: 3 active calls"
    assert waited.attempts.get().outcome == AttemptOutcome.FAILED
    assert fresh.status == Status.PLANNED
    # The partner is told of the failure (R16), whatever the task's Send E-mail flag.
    close_failure_digests()  # the hour has closed
    assert Notification.objects.filter(kind=Kind.FAILED_PARTNER, tasks=waited).count() == 1


def test_past_the_latest_start_a_waiting_window_task_moves_and_a_custom_one_fails(
    make_tasks, platform_admin, partner_admin
):
    _daily_window(platform_admin)
    waiting = {"waiting_reason": "busy: 3 active calls", "busy_since": ago(minutes=20)}
    [window] = make_tasks(
        1,
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=ago(hours=1),
        latest_start=ago(seconds=1),
        notify_partner=True,
        next_check=ago(seconds=1),
        **waiting,
    )
    [custom, plain] = make_tasks(
        2, timing=Timing.CUSTOM, earliest_start=ago(hours=1), latest_start=ago(seconds=1)
    )
    UpdateTask.objects.filter(pk=custom.pk).update(**waiting)

    result = handle_missed_windows()

    assert result.moved == [window.pk] and sorted(result.failed) == sorted([custom.pk, plain.pk])
    window.refresh_from_db()
    assert window.status == Status.PLANNED and window.earliest_start > timezone.now()
    assert (window.waiting_reason, window.next_check, window.busy_since) == ("", None, None)
    assert Notification.objects.filter(kind=Kind.RESCHEDULED_PARTNER, tasks=window).exists()
    reasons = dict(
        UpdateTask.objects.filter(status=Status.FAILED).values_list("pk", "failure_reason")
    )
    assert reasons == {custom.pk: "busy: 3 active calls", plain.pk: "start window missed"}
