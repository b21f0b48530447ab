"""The only writers of update tasks: schedule, reschedule, delete, retry, and the conflicts
of a platform maintenance (R2–R9). The portal, the API and the CLI all call these.

Every write happens in one transaction together with its change-log entries and outbox
rows; state changes are compare-and-set on `status`.

One concern per module: `creating`, `rescheduling`, `deleting`, `retrying`, `conflicts`
(platform maintenance, R8), `refusals` (what an administrator may not change, R7/R9).
Every public name is importable from the package itself; reads live in `updates.queries`.
"""

from __future__ import annotations

from ucfleet.updates.planning import ScheduleRequest
from ucfleet.updates.queries import tasks_conflicting_with
from ucfleet.updates.services.conflicts import resolve_conflicts
from ucfleet.updates.services.creating import preview_updates, schedule_updates
from ucfleet.updates.services.deleting import delete_task, delete_tasks
from ucfleet.updates.services.rescheduling import reschedule_task, reschedule_tasks
from ucfleet.updates.services.results import BulkResult, Refusal, ScheduleResult
from ucfleet.updates.services.retrying import retry_task

__all__ = [
    "BulkResult",
    "Refusal",
    "ScheduleRequest",
    "ScheduleResult",
    "delete_task",
    "delete_tasks",
    "preview_updates",
    "reschedule_task",
    "reschedule_tasks",
    "resolve_conflicts",
    "retry_task",
    "schedule_updates",
    "tasks_conflicting_with",
]
