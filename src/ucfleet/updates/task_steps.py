"""The steps of a task's attempts as drivers ran them (R24): written in batches by the
worker, read by the task page's timeline and the API's `steps`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from ucfleet.updates.models import TaskStep, UpdateTask

BATCH = 1000


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
    """Insert finished steps (of any number of attempts) in one statement per batch."""
    TaskStep.objects.bulk_create(
        (
            TaskStep(
                task_id=row.task_id,
                attempt_id=row.attempt_id,
                step=row.step,
                started=row.started,
                finished=row.finished,
                outcome=row.outcome,
                output=row.output,
            )
            for row in rows
        ),
        batch_size=BATCH,
    )


def steps_of(task: UpdateTask) -> QuerySet[TaskStep]:
    """Every step of every attempt of `task`, in the order they ran. The caller has the
    task from a `*_visible_to` query: steps are as visible as their task."""
    return TaskStep.objects.filter(task_id=task.pk).order_by("started", "id")
