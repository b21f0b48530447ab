"""Busy tenants (R25): a task whose pre-check found active calls goes back to waiting.

It stays `planned` (it holds no cap slot: only `in_progress` tasks count) with a
`waiting_reason` ("busy: 3 active calls") and is not due before `next_check` (every
`UCFLEET_BUSY_RECHECK_SECONDS`). A task with a latest start waits until then: the
missed-window sweep (`execution.handle_missed_windows`) moves a maintenance-window task to
the next occurrence (with notice) or fails any other with its waiting reason. An
*Immediately* task has no latest start: it fails here once it has been busy for
`UCFLEET_BUSY_MAX_WAIT_MINUTES` since its first busy pre-check. docs/worker.md has the whole
protocol.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.rollouts.hooks import tasks_ended
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.webhooks.emission import emit_task_changes

WAITING = "waiting"
FAILED = "failed"
LOST = "lost"


def wait_for_idle(
    *, task_id: int, attempt_id: int, worker_name: str, reason: str, log_text: str
) -> str:
    """In progress → planned and waiting (or failed with `reason` when an Immediately task
    has waited long enough). Returns WAITING, FAILED, or LOST when the task is no longer
    held by `worker_name` (nothing is changed then but the attempt's log)."""
    config = settings.UCFLEET
    with transaction.atomic():
        at = utcnow()
        task = (
            UpdateTask.objects.filter(pk=task_id, status=Status.IN_PROGRESS, claimed_by=worker_name)
            .values("partner_id", "latest_start", "busy_since")
            .first()
        )
        if task is None:
            return _discard(attempt_id, log_text)
        busy_since = task["busy_since"] or at
        next_check = at + timedelta(seconds=config["BUSY_RECHECK_SECONDS"])
        if task["latest_start"] is not None:
            # The last check at the latest start; past it the missed-window sweep decides.
            next_check = min(next_check, max(task["latest_start"], at))
            give_up = False
        else:
            gives_up_at = busy_since + timedelta(minutes=config["BUSY_MAX_WAIT_MINUTES"])
            give_up = at >= gives_up_at
            next_check = min(next_check, gives_up_at)
        held = {"status": Status.IN_PROGRESS, "claimed_by": worker_name}
        if give_up:
            changes = {"status": Status.FAILED, "finished": at, "failure_reason": reason}
            new_value, outcome, result = f"failed: {reason}", AttemptOutcome.FAILED, FAILED
        else:
            changes = {
                "status": Status.PLANNED,
                "claimed_by": "",
                "started": None,
                "waiting_reason": reason,
                "next_check": next_check,
                "busy_since": busy_since,
            }
            new_value, outcome, result = f"waiting: {reason}", AttemptOutcome.WAITING, WAITING
        if not compare_and_set(UpdateTask, task_id, expected=held, changes=changes):
            return _discard(attempt_id, log_text)  # taken from us since the read
        TaskAttempt.objects.filter(pk=attempt_id, outcome=AttemptOutcome.RUNNING).update(
            outcome=outcome, finished=at, log=log_text
        )
        record_many(
            SYSTEM,
            [
                Change(
                    "fail" if give_up else "wait",
                    "update_task",
                    task_id,
                    "status",
                    Status.IN_PROGRESS,
                    new_value,
                    partner_id=task["partner_id"],
                )
            ],
        )
        if give_up:
            notify.notify_task_failed(task_id)
            tasks_ended([task_id])  # rollouts: waves end, error budget (R20, R21)
        emit_task_changes([task_id], previous=Status.IN_PROGRESS)
    return result


def _discard(attempt_id: int, log_text: str) -> str:
    """The task was taken from this worker (declared lost): keep the log, change nothing."""
    note = "\nresult discarded: the task was no longer held by this worker"
    TaskAttempt.objects.filter(pk=attempt_id).update(log=log_text + note)
    return LOST
