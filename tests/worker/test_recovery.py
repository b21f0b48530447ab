"""R14: heartbeats, lost workers, late results of lost workers, and retry of failed tasks."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.notifications.helpers import close_failure_digests
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.updates import services
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.execution import (
    WORKER_LOST,
    claim_due_tasks,
    complete_task,
    save_attempt_log,
)
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.worker import registry
from ucfleet.worker.models import Worker, WorkerStatus
from ucfleet.worker.recovery import recover_lost_workers

TTL = 30.0


def _silent_worker(name: str, *, silent_for: float) -> Worker:
    worker = registry.register_worker(name=name, concurrency=2, ttl_seconds=TTL)
    Worker.objects.filter(pk=worker.pk).update(
        heartbeat=timezone.now() - timedelta(seconds=silent_for)
    )
    return worker


def test_tasks_of_a_worker_without_heartbeat_fail_as_interrupted(
    burst, make_tasks, partner_admin, versions
):
    tasks = make_tasks(3)
    _silent_worker("crashed", silent_for=TTL + 1)
    taken = claim_due_tasks(worker_name="crashed", limit=2)

    summary = burst()

    lost_ids = sorted(c.task_id for c in taken)
    assert sorted(summary.recovered) == lost_ids
    assert summary.executed == [t.pk for t in tasks if t.pk not in lost_ids]
    assert Worker.objects.get(name="crashed").status == WorkerStatus.LOST
    for claim in taken:
        task = UpdateTask.objects.get(pk=claim.task_id)
        task.refresh_from_db()
        assert task.status == Status.FAILED
        assert task.failure_reason == WORKER_LOST == "interrupted: worker lost"
        attempt = task.attempts.get()
        assert attempt.outcome == AttemptOutcome.INTERRUPTED
        assert "worker lost: no heartbeat for more than 30 s" in attempt.log
        assert task.tenant.__class__.objects.get(pk=task.tenant_id).version == versions["current"]
        assert ChangeLogEntry.objects.filter(action="fail", object_id=str(task.pk)).exists()
    # The partner's administrator is told once, of both tasks.
    close_failure_digests()  # the hour has closed
    mail = Notification.objects.get(kind=Kind.FAILED_PARTNER)
    assert sorted(mail.tasks.values_list("pk", flat=True)) == lost_ids


def test_a_worker_within_its_ttl_keeps_its_tasks(db, make_tasks):
    make_tasks(1)
    _silent_worker("slow", silent_for=TTL - 5)
    [claim] = claim_due_tasks(worker_name="slow", limit=1)

    assert recover_lost_workers(ttl_seconds=TTL) == []

    assert UpdateTask.objects.get(pk=claim.task_id).status == Status.IN_PROGRESS
    assert Worker.objects.get(name="slow").status == WorkerStatus.ALIVE


def test_in_progress_tasks_of_a_stopped_or_unknown_worker_are_recovered(db, make_tasks):
    make_tasks(2)
    registry.register_worker(name="gone", concurrency=1, ttl_seconds=TTL)
    [of_stopped] = claim_due_tasks(worker_name="gone", limit=1)
    registry.mark_stopped("gone")
    [of_unknown] = claim_due_tasks(worker_name="never-registered", limit=1)

    failed = recover_lost_workers(ttl_seconds=TTL)

    assert sorted(failed) == sorted([of_stopped.task_id, of_unknown.task_id])


def test_a_lost_workers_late_result_is_discarded(db, make_tasks, versions):
    [task] = make_tasks(1)
    _silent_worker("paused", silent_for=0)
    [claim] = claim_due_tasks(worker_name="paused", limit=1)
    Worker.objects.filter(name="paused").update(
        heartbeat=timezone.now() - timedelta(seconds=TTL + 1)
    )
    recover_lost_workers(ttl_seconds=TTL)

    held = complete_task(
        task_id=task.pk, attempt_id=claim.attempt_id, worker_name="paused", log_text="done late"
    )

    assert held is False
    task.refresh_from_db()
    assert task.status == Status.FAILED and task.failure_reason == WORKER_LOST
    assert task.tenant.__class__.objects.get(pk=task.tenant_id).version == versions["current"]
    assert "result discarded" in task.attempts.get().log
    # A lost worker that beats again learns it was declared lost.
    assert registry.beat("paused") is False


def test_recovering_twice_fails_each_task_once(db, make_tasks):
    make_tasks(2)
    _silent_worker("dead", silent_for=TTL + 1)
    claim_due_tasks(worker_name="dead", limit=2)
    assert len(recover_lost_workers(ttl_seconds=TTL)) == 2
    assert recover_lost_workers(ttl_seconds=TTL) == []
    assert ChangeLogEntry.objects.filter(action="fail").count() == 2


def test_a_live_worker_name_cannot_be_taken_twice(db):
    registry.register_worker(name="w", concurrency=1, ttl_seconds=TTL)
    with pytest.raises(registry.WorkerNameInUse):
        registry.register_worker(name="w", concurrency=1, ttl_seconds=TTL)


def test_a_name_whose_process_died_on_this_host_is_taken_over_at_once(db, make_tasks):
    make_tasks(1)
    registry.register_worker(name="node-2", concurrency=1, ttl_seconds=TTL)
    [claim] = claim_due_tasks(worker_name="node-2", limit=1)
    finished = subprocess.Popen(["true"])
    finished.wait()  # its pid now names no process
    Worker.objects.filter(name="node-2").update(pid=finished.pid)

    registry.register_worker(name="node-2", concurrency=1, ttl_seconds=TTL)

    task = UpdateTask.objects.get(pk=claim.task_id)
    assert task.status == Status.FAILED and task.failure_reason == WORKER_LOST


def test_restarting_a_lost_workers_name_fails_its_old_tasks_first(db, make_tasks):
    make_tasks(1)
    _silent_worker("node-1", silent_for=TTL + 1)
    [claim] = claim_due_tasks(worker_name="node-1", limit=1)

    registry.register_worker(name="node-1", concurrency=1, ttl_seconds=TTL)

    task = UpdateTask.objects.get(pk=claim.task_id)
    assert task.status == Status.FAILED
    assert task.failure_reason == WORKER_LOST
    assert Worker.objects.get(name="node-1").status == WorkerStatus.ALIVE


def test_a_failed_task_can_be_retried_and_the_worker_executes_the_retry(
    burst, make_tasks, ucfleet_settings, platform_admin, versions
):
    ucfleet_settings(SIMULATED_FAILURE_SHARE=1.0)
    [task] = make_tasks(1)
    assert burst().failed == [task.pk]

    retry = services.retry_task(platform_admin, task.pk)
    ucfleet_settings(SIMULATED_FAILURE_SHARE=0.0)
    summary = burst()

    retry.refresh_from_db()
    task.refresh_from_db()
    assert summary.executed == [retry.pk]
    assert retry.retry_of_id == task.pk and retry.status == Status.EXECUTED
    assert task.status == Status.FAILED  # the failed attempt stays on record
    assert retry.tenant.__class__.objects.get(pk=retry.tenant_id).version == versions["new"]


def _queries_to_recover(make_tasks, worker_name, n):
    make_tasks(n)
    _silent_worker(worker_name, silent_for=TTL + 1)
    taken = claim_due_tasks(worker_name=worker_name, limit=n)
    assert len(taken) == n
    save_attempt_log(attempt_id=taken[0].attempt_id, log_text=f"{worker_name}: step 1")
    with CaptureQueriesContext(connection) as queries:
        failed = recover_lost_workers(ttl_seconds=TTL)
    assert sorted(failed) == sorted(c.task_id for c in taken)
    # The note follows the steps logged so far, on a line of its own.
    logs = dict(
        TaskAttempt.objects.filter(pk__in=[c.attempt_id for c in taken]).values_list("pk", "log")
    )
    first = logs.pop(taken[0].attempt_id)
    assert first.startswith(f"{worker_name}: step 1\n") and first.endswith(" s")
    assert all(log.endswith("no heartbeat for more than 30 s") for log in logs.values())
    assert all("\n" not in log for log in logs.values())
    return len(queries)


def test_recovering_2_or_6_lost_tasks_costs_the_same_queries(
    db, make_tasks, ucfleet_settings, partner_admin
):
    _queries_to_recover(make_tasks, "warm-up", 1)
    assert _queries_to_recover(make_tasks, "few", 2) == _queries_to_recover(make_tasks, "many", 6)
    # One digest per partner administrator per recovery, listing that recovery's tasks.
    close_failure_digests()  # the hour has closed
    mails = Notification.objects.filter(kind=Kind.FAILED_PARTNER)
    assert sorted(m.tasks.count() for m in mails) == [1, 2, 6]
    logs = TaskAttempt.objects.filter(outcome=AttemptOutcome.INTERRUPTED)
    assert logs.count() == 9 and all("worker lost" in a.log for a in logs)
