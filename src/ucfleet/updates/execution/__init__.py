"""Execution transitions of update tasks (R11–R14): the only writers the worker uses.

Every transition is a compare-and-set on the task's status (and, once claimed, on the worker
that holds it), written together with the change log and the outbox in one transaction.
`docs/worker.md` describes the protocol; this package is its implementation on the domain
side and knows nothing of worker processes, threads or drivers.

One concern per module: `claim` (due tasks, caps, the claim lock), `outcomes` (the end of an
attempt), `recovery` (lost workers), `missed_windows` (R12). Every public name is importable
from the package itself.
"""

from __future__ import annotations

from ucfleet.updates.execution.claim import (
    CLAIM_LOCK_KEY,
    Claim,
    claim_due_tasks,
    due_tasks,
    has_open_work,
    running_counts,
)
from ucfleet.updates.execution.common import MAX_REASON, START_WINDOW_MISSED, WORKER_LOST
from ucfleet.updates.execution.missed_windows import (
    MISSED_BATCH,
    MissedWindows,
    handle_missed_windows,
)
from ucfleet.updates.execution.outcomes import (
    Failed,
    Finished,
    complete_task,
    complete_tasks,
    fail_task,
    fail_tasks,
    hand_back_task,
    save_attempt_log,
    save_attempt_logs,
)
from ucfleet.updates.execution.recovery import fail_interrupted_tasks

__all__ = [
    "CLAIM_LOCK_KEY",
    "MAX_REASON",
    "MISSED_BATCH",
    "START_WINDOW_MISSED",
    "WORKER_LOST",
    "Claim",
    "Failed",
    "Finished",
    "MissedWindows",
    "claim_due_tasks",
    "complete_task",
    "complete_tasks",
    "due_tasks",
    "fail_interrupted_tasks",
    "fail_task",
    "fail_tasks",
    "hand_back_task",
    "handle_missed_windows",
    "has_open_work",
    "running_counts",
    "save_attempt_log",
    "save_attempt_logs",
]
