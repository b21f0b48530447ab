"""Tasks of lost workers (R14): in progress → failed "interrupted: worker lost"."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, QuerySet, TextField, Value, When
from django.db.models.functions import Concat

from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import record_many
from ucfleet.core.cas import bulk_compare_and_set
from ucfleet.core.chunks import chunks
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.rollouts.hooks import tasks_ended
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.execution.common import WORKER_LOST, task_change
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.webhooks.emission import emit_task_changes


def fail_interrupted_tasks(*, alive_workers: QuerySet | list[str], note: str) -> list[int]:
    """In-progress tasks whose holder is not among `alive_workers` (names: a list or a
    subquery) become failed "interrupted: worker lost"; their open attempts are closed with
    `note`. Returns the ids this call failed.

    Bulk: one compare-and-set per lost holder, one update of the attempts, one digest per
    partner administrator (the queries do not grow with the number of tasks)."""
    orphans = UpdateTask.objects.filter(status=Status.IN_PROGRESS).exclude(
        claimed_by__in=alive_workers
    )
    if not orphans.exists():  # the common case, answered without a write transaction
        return []
    with transaction.atomic():
        rows = list(orphans.order_by("id").values("pk", "partner_id", "claimed_by"))
        at = utcnow()
        by_holder: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_holder[row["claimed_by"]].append(row["pk"])
        done: set[int] = set()
        for holder, pks in by_holder.items():
            done.update(
                bulk_compare_and_set(
                    UpdateTask,
                    pks,
                    expected={"status": Status.IN_PROGRESS, "claimed_by": holder},
                    changes={
                        "status": Status.FAILED,
                        "finished": at,
                        "failure_reason": WORKER_LOST,
                    },
                )
            )
        failed = [row["pk"] for row in rows if row["pk"] in done]
        if not failed:
            return []
        _interrupt_attempts(failed, note=note, at=at)
        record_many(
            SYSTEM,
            [
                task_change(row, "fail", "status", Status.IN_PROGRESS, f"failed: {WORKER_LOST}")
                for row in rows
                if row["pk"] in done
            ],
        )
        notify.notify_tasks_failed(failed)
        emit_task_changes(failed, previous=Status.IN_PROGRESS)
        tasks_ended(failed)  # rollouts: waves end, error budget (R20, R21)
    return failed


def _interrupt_attempts(task_ids: list[int], *, note: str, at: datetime) -> None:
    """Close the running attempts of `task_ids` as interrupted, `note` appended to each log."""
    appended = Case(
        When(log="", then=Value(note)),
        default=Concat(F("log"), Value("\n" + note), output_field=TextField()),
        output_field=TextField(),
    )
    for chunk in chunks(task_ids):
        TaskAttempt.objects.filter(task_id__in=chunk, outcome=AttemptOutcome.RUNNING).update(
            log=appended, outcome=AttemptOutcome.INTERRUPTED, finished=at
        )
