"""The real worker loop (`--burst`) executing tasks: R11 due rules, ordering, caps."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from tests.factories import ScaleUnitFactory
from tests.worker.conftest import ago, attempt_intervals, max_overlap
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.maintenance import services as maintenance_services
from ucfleet.updates.choices import AttemptOutcome, Status, Timing
from ucfleet.updates.execution import claim_due_tasks
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_burst_executes_a_due_task_and_the_tenant_gets_the_target_version(
    burst, make_tasks, versions
):
    [task] = make_tasks(1, redeploy=True)

    summary = burst()

    task.refresh_from_db()
    assert summary.executed == [task.pk]
    assert task.status == Status.EXECUTED
    assert task.started is not None and task.finished >= task.started
    assert task.tenant.__class__.objects.get(pk=task.tenant_id).version == versions["new"]
    [attempt] = task.attempts.all()
    assert attempt.outcome == AttemptOutcome.SUCCEEDED
    assert attempt.worker_name == task.claimed_by
    for step in ("pre_check", "backup", "update", "redeploy", "health_check"):
        assert re.search(rf"^{STAMP} {step}: started$", attempt.log, re.M), step
        assert re.search(rf"^{STAMP} {step}: succeeded: ", attempt.log, re.M), step


def test_redeploy_step_runs_only_when_asked(burst, make_tasks):
    [task] = make_tasks(1, redeploy=False)
    burst()
    log = task.attempts.get().log
    assert "health_check: succeeded" in log
    assert "redeploy" not in log


def test_every_transition_is_in_the_change_log_as_system(burst, make_tasks, versions):
    [task] = make_tasks(1)
    burst()
    entries = ChangeLogEntry.objects.filter(actor__isnull=True).order_by("id")
    assert [(e.action, e.object_type, e.field, e.old, e.new) for e in entries] == [
        ("start", "update_task", "status", "planned", "in_progress"),
        ("complete", "update_task", "status", "in_progress", "executed"),
        ("update", "tenant", "version", "14.9", "14.10"),
    ]
    assert {e.actor_name for e in entries} == {"system"}
    assert {e.partner_id for e in entries} == {task.partner_id}


def test_management_command_runs_the_worker_in_burst_mode(ucfleet_settings, make_tasks, capsys):
    tasks = make_tasks(3)
    call_command("worker", "--burst", "--concurrency", "2", "--name", "cmd-worker")
    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.EXECUTED}
    assert {t.attempts.get().worker_name for t in tasks} == {"cmd-worker"}
    assert Worker.objects.get(name="cmd-worker").status == WorkerStatus.STOPPED
    assert "executed 3, failed 0" in capsys.readouterr().out


def test_tasks_not_yet_due_or_past_their_latest_start_are_not_started(burst, make_tasks):
    [future] = make_tasks(1, earliest_start=timezone.now() + timedelta(minutes=5))
    [due] = make_tasks(1, timing=Timing.CUSTOM, latest_start=timezone.now() + timedelta(hours=1))

    summary = burst()

    assert summary.executed == [due.pk]
    future.refresh_from_db()
    assert future.status == Status.PLANNED and not future.attempts.exists()


def test_an_immediate_task_waits_for_tasks_scheduled_earlier(burst, make_tasks, ucfleet_settings):
    ucfleet_settings(MAX_CONCURRENT_TASKS=1)
    # Created first, but due only now ("Immediately" runs after earlier-scheduled tasks).
    [immediate] = make_tasks(1, earliest_start=ago(seconds=1), created=ago(minutes=1))
    [custom_later] = make_tasks(
        1,
        timing=Timing.CUSTOM,
        earliest_start=ago(minutes=5),
        created=ago(seconds=30),
        latest_start=timezone.now() + timedelta(hours=1),
    )
    [window] = make_tasks(
        1,
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=ago(minutes=10),
        created=ago(seconds=10),
        latest_start=timezone.now() + timedelta(hours=1),
    )
    same_start = ago(minutes=3)
    [tie_newer] = make_tasks(1, earliest_start=same_start, created=ago(seconds=5))
    [tie_older] = make_tasks(1, earliest_start=same_start, created=ago(seconds=50))

    burst(concurrency=3)

    started_order = list(
        TaskAttempt.objects.order_by("started", "id").values_list("task_id", flat=True)
    )
    assert started_order == [window.pk, custom_later.pk, tie_older.pk, tie_newer.pk, immediate.pk]


def test_claim_takes_no_more_than_the_scale_unit_cap(db, make_tasks, unit_of_two, ucfleet_settings):
    make_tasks(5, unit=unit_of_two)
    other = ScaleUnitFactory(name="ber-1", max_concurrent_tasks=1)
    make_tasks(3, unit=other)
    make_tasks(2, unit=None)

    first = claim_due_tasks(worker_name="w1", limit=10)
    second = claim_due_tasks(worker_name="w2", limit=10)

    units = [c.scale_unit_id for c in first]
    assert units.count(unit_of_two.pk) == 2
    assert units.count(other.pk) == 1
    assert units.count(None) == 2  # no scale unit: only the global cap applies
    assert second == []  # every unit is full; tasks without a unit are all taken


def test_claim_respects_the_global_cap_across_claims(db, make_tasks, ucfleet_settings):
    ucfleet_settings(MAX_CONCURRENT_TASKS=3)
    big = ScaleUnitFactory(name="big", max_concurrent_tasks=50)
    make_tasks(6, unit=big)
    assert len(claim_due_tasks(worker_name="w1", limit=2)) == 2
    assert len(claim_due_tasks(worker_name="w2", limit=5)) == 1
    assert claim_due_tasks(worker_name="w3", limit=5) == []
    assert UpdateTask.objects.filter(status=Status.IN_PROGRESS).count() == 3


def test_a_full_unit_does_not_hold_up_tasks_of_other_units(db, make_tasks, unit_of_two):
    make_tasks(4, unit=unit_of_two, earliest_start=ago(minutes=10))
    other = ScaleUnitFactory(name="ber-1", max_concurrent_tasks=5)
    [later] = make_tasks(1, unit=other, earliest_start=ago(minutes=1))
    claimed = claim_due_tasks(worker_name="w1", limit=3)
    assert [c.task_id for c in claimed][-1] == later.pk
    assert len(claimed) == 3


def test_the_running_loop_never_exceeds_a_scale_unit_cap(
    burst, make_tasks, unit_of_two, ucfleet_settings
):
    ucfleet_settings(SIMULATED_SECONDS=0.04)
    make_tasks(8, unit=unit_of_two)

    summary = burst(concurrency=6)

    assert len(summary.executed) == 8
    assert max_overlap(attempt_intervals()) == 2


def test_the_running_loop_never_exceeds_the_global_cap(burst, make_tasks, ucfleet_settings):
    ucfleet_settings(SIMULATED_SECONDS=0.04, MAX_CONCURRENT_TASKS=3)
    for name in ("u1", "u2", "u3"):
        make_tasks(3, unit=ScaleUnitFactory(name=name, max_concurrent_tasks=10))

    summary = burst(concurrency=8)

    assert len(summary.executed) == 9
    assert max_overlap(attempt_intervals()) == 3


def test_no_task_starts_while_a_platform_maintenance_runs(burst, make_tasks, platform_admin):
    tasks = make_tasks(2)
    maintenance = maintenance_services.create_maintenance(
        platform_admin,
        start=ago(minutes=5),
        end=timezone.now() + timedelta(hours=1),
        message_en="database upgrade",
    )

    summary = burst()

    assert summary.executed == []
    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.PLANNED}
    assert not TaskAttempt.objects.exists()

    maintenance_services.delete_maintenance(platform_admin, maintenance.pk)
    assert sorted(burst().executed) == sorted(t.pk for t in tasks)


def test_a_maintenance_in_the_future_does_not_stop_due_tasks(burst, make_tasks, platform_admin):
    make_tasks(1)
    maintenance_services.create_maintenance(
        platform_admin,
        start=timezone.now() + timedelta(hours=1),
        end=timezone.now() + timedelta(hours=2),
    )
    assert len(burst().executed) == 1


def test_failed_tasks_keep_the_tenant_version_and_say_why(
    burst, make_tasks, ucfleet_settings, versions
):
    ucfleet_settings(SIMULATED_FAILURE_SHARE=1.0)
    [task] = make_tasks(1)

    summary = burst()

    task.refresh_from_db()
    assert summary.failed == [task.pk]
    assert task.status == Status.FAILED
    # The seed and the task id pick the failing step: before the backup nothing is restored,
    # after it the backup is (R26). Either way the tenant stays on its version.
    assert re.fullmatch(
        r"(pre-check|backup) failed: simulated failure \(seed 7\)"
        r"|(update|health check) failed: restored to 14\.9",
        task.failure_reason,
    ), task.failure_reason
    assert task.tenant.__class__.objects.get(pk=task.tenant_id).version == versions["current"]
    attempt = task.attempts.get()
    assert attempt.outcome == AttemptOutcome.FAILED and attempt.finished is not None
    fail = ChangeLogEntry.objects.get(action="fail")
    assert fail.object_id == str(task.pk) and fail.actor_id is None
    assert fail.new == f"failed: {task.failure_reason}"


def test_the_worker_purges_change_log_entries_past_their_retention(burst, make_tasks):
    old = ChangeLogEntry.objects.create(
        at=timezone.now() - timedelta(days=91),
        actor_name="plat",
        action="update",
        object_type="tenant",
        object_id="1",
    )
    recent = ChangeLogEntry.objects.create(
        at=timezone.now() - timedelta(days=89),
        actor_name="plat",
        action="update",
        object_type="tenant",
        object_id="2",
    )
    burst()
    assert not ChangeLogEntry.objects.filter(pk=old.pk).exists()
    assert ChangeLogEntry.objects.filter(pk=recent.pk).exists()
