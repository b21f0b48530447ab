"""Cancelling planned tasks and removing failed ones from the list (R9, R16)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import bulk_compare_and_set
from ucfleet.core.chunks import chunks
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.rollouts.hooks import tasks_ended
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import BATCH
from ucfleet.updates.queries import get_task_for
from ucfleet.updates.rules import TaskAction, refusal
from ucfleet.updates.services.refusals import raise_refusal, visible_tasks
from ucfleet.updates.services.results import BulkResult, Refusal
from ucfleet.webhooks.emission import emit_task_changes


def delete_tasks(admin: Actor, tasks: QuerySet[UpdateTask] | Iterable[Any]) -> BulkResult:
    """Planned tasks become cancelled, failed tasks leave the list (R9, R16).

    `tasks` is a queryset from `tasks_visible_to(admin)` (delete all of a filtered list) or
    ids (a selection). Anything else (in progress, executed, forced for partners) is refused.
    """
    result = BulkResult()
    with transaction.atomic():
        for batch in _row_batches(admin, tasks):
            _delete_batch(admin, batch, result)
    return result


@dataclass(frozen=True, slots=True)
class _TaskRow:
    """What deleting reads of a task (the fields `rules.refusal` asks, and the change log's)."""

    pk: int
    status: str
    is_forced: bool
    partner_id: int


_ROW_FIELDS = [f.name for f in fields(_TaskRow)]


def _row_batches(
    admin: Actor, tasks: QuerySet[UpdateTask] | Iterable[Any]
) -> Iterator[list[_TaskRow]]:
    if isinstance(tasks, QuerySet):
        rows = tasks.order_by("pk").values(*_ROW_FIELDS)
        # Keyset batches: deleting changes the rows a status filter matches, so an offset
        # would skip some.
        last_pk = 0
        while batch := [_TaskRow(**row) for row in rows.filter(pk__gt=last_pk)[:BATCH]]:
            yield batch
            last_pk = batch[-1].pk
        return
    loaded = [
        _TaskRow(t.pk, t.status, t.is_forced, t.partner_id) for t in visible_tasks(admin, tasks)
    ]
    for chunk in chunks(loaded, BATCH):
        yield list(chunk)


def _delete_batch(admin: Actor, rows: list[_TaskRow], result: BulkResult) -> None:
    planned, failed, partner_of = [], [], {}
    for row in rows:
        partner_of[row.pk] = row.partner_id
        reason = refusal(admin, row, TaskAction.DELETE)
        if reason:
            result.refused.append(Refusal(row.pk, reason))
        elif row.status == Status.PLANNED:
            planned.append(row.pk)
        else:
            failed.append(row.pk)
    finished = utcnow()
    cancelled = bulk_compare_and_set(
        UpdateTask,
        planned,
        expected={"status": Status.PLANNED},
        changes={"status": Status.CANCELLED, "finished": finished},
    )
    archived = bulk_compare_and_set(
        UpdateTask,
        failed,
        expected={"status": Status.FAILED, "is_archived": False},
        changes={"is_archived": True},
    )
    done = set(cancelled) | set(archived)
    result.done += sorted(done)
    result.refused += [Refusal(pk, "changed") for pk in planned + failed if pk not in done]
    record_many(
        admin,
        [
            *(
                Change(
                    "cancel",
                    "update_task",
                    pk,
                    "status",
                    Status.PLANNED,
                    Status.CANCELLED,
                    partner_id=partner_of[pk],
                )
                for pk in cancelled
            ),
            *(
                Change(
                    "delete",
                    "update_task",
                    pk,
                    "status",
                    Status.FAILED,
                    "removed from list",
                    partner_id=partner_of[pk],
                )
                for pk in archived
            ),
        ],
    )
    if cancelled:
        notify.notify_tasks_cancelled(cancelled)
        emit_task_changes(cancelled, previous=Status.PLANNED)
        tasks_ended(cancelled)  # rollouts: waves end (R20)


def delete_task(admin: Actor, task_id: Any) -> None:
    task = get_task_for(admin, task_id)
    reason = refusal(admin, task, TaskAction.DELETE)
    if reason:
        raise_refusal(reason)
    result = delete_tasks(admin, [task.pk])
    if result.refused:
        raise_refusal(result.refused[0].reason)
