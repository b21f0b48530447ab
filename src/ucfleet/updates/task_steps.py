"""The steps of a task's attempts as drivers ran them (R24): written in batches by the
worker, read by the task page's timeline and the API's `steps`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from ucfleet.core import batchsql
from ucfleet.updates.models import TaskStep, UpdateTask

_COLUMNS = ("task_id", "attempt_id", "step", "started", "finished", "outcome", "output")


@dataclass(frozen=True)
class StepRow:
    task_id: int
    attempt_id: int
    step: str
    started: datetime
    finished: datetime
    outcome: str
    output: str


def record_steps(rows: Sequence[StepRow]) -> None:
    """Insert finished steps (of any number of attempts): one statement per
    batchsql.BATCH rows (raw SQL: the worker's hot path, see docs/worker.md)."""
    if not rows:
        return
    prepare = batchsql.stamper()  # the drivers' times are aware UTC datetimes
    batchsql.insert_rows(
        TaskStep,
        _COLUMNS,
        [
            (
                r.task_id,
                r.attempt_id,
                r.step,
                prepare(r.started),
                prepare(r.finished),
                r.outcome,
                r.output,
            )
            for r in rows
        ],
    )


def steps_of(task: UpdateTask) -> QuerySet[TaskStep]:
    """Every step of every attempt of `task`, in the order they ran. The caller has the
    task from a `*_visible_to` query: steps are as visible as their task."""
    return TaskStep.objects.filter(task_id=task.pk).order_by("started", "id")
