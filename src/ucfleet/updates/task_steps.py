"""The steps of a task's attempts as drivers ran them (R24): written in batches by the
worker, read by the task page's timeline and the API's `steps`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
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
    """Insert finished steps (of any number of attempts): multi-row INSERTs of up to BATCH
    rows (raw SQL: the worker's hot path, see docs/worker.md)."""
    if not rows:
        return
    field = TaskStep._meta.get_field("started")
    table = connection.ops.quote_name(TaskStep._meta.db_table)
    columns = "task_id, attempt_id, step, started, finished, outcome, output"
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), BATCH):
            batch = rows[offset : offset + BATCH]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(batch))
            params = [
                v
                for r in batch
                for v in (
                    r.task_id,
                    r.attempt_id,
                    r.step,
                    field.get_db_prep_save(r.started, connection),
                    field.get_db_prep_save(r.finished, connection),
                    r.outcome,
                    r.output,
                )
            ]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)


def steps_of(task: UpdateTask) -> QuerySet[TaskStep]:
    """Every step of every attempt of `task`, in the order they ran. The caller has the
    task from a `*_visible_to` query: steps are as visible as their task."""
    return TaskStep.objects.filter(task_id=task.pk).order_by("started", "id")
