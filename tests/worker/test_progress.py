"""A running task's progress reaches the database while it runs (R24: the timeline and the
log show its steps as they end), from a real worker process, every LOG_SAVE_SECONDS."""

from __future__ import annotations

import signal

from tests.worker.processes import child_env, start_worker, wait_until
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.models import TaskAttempt, TaskStep, UpdateTask
from ucfleet.worker.runner import LOG_SAVE_SECONDS


def test_a_running_tasks_ended_steps_and_log_are_saved_before_it_ends(
    transactional_db, make_tasks, tmp_path
):
    [task] = make_tasks(1)
    env = child_env()
    # Four steps of 3 s each: the pre-check ends at 3 s, the task at 12 s.
    env.update(
        UCFLEET_DRIVER="simulated",
        UCFLEET_SIMULATED_SECONDS="12",
        UCFLEET_SIMULATED_FAILURE_SHARE="0",
        UCFLEET_WORKER_POLL="0.05",
        UCFLEET_LOG_LEVEL="WARNING",
    )
    worker = start_worker("--name", "live", env=env, log_to=tmp_path / "live.log")
    try:
        saved = wait_until(
            lambda: TaskStep.objects.filter(task=task, step="pre_check").exists(),
            timeout=3 + 2 * LOG_SAVE_SECONDS + 5,
            every=0.1,
        )
        task.refresh_from_db()
        attempt = TaskAttempt.objects.get(task=task)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    assert saved, (tmp_path / "live.log").read_text()
    assert task.status == Status.IN_PROGRESS  # seen while it ran, not with its outcome
    assert attempt.outcome == AttemptOutcome.RUNNING
    assert "pre_check: succeeded" in attempt.log
    step = TaskStep.objects.get(task=task, step="pre_check")
    assert step.outcome == "succeeded" and step.finished > step.started
    assert not UpdateTask.objects.filter(status=Status.EXECUTED).exists()
