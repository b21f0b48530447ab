"""Cancelling planned tasks and removing failed ones from the list (R9, R16)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import bulk_compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import BATCH
from ucfleet.updates.queries import get_task_for
from ucfleet.updates.services.refusals import raise_refusal, refusal_reason, visible_tasks
from ucfleet.updates.services.results import BulkResult, Refusal


def delete_tasks(admin: Any, tasks: QuerySet[UpdateTask] | Iterable[Any]) -> BulkResult:
    """Planned tasks become cancelled, failed tasks leave the list (R9, R16).

    `tasks` is a queryset from `tasks_visible_to(admin)` (delete all of a filtered list) or
    ids (a selection). Anything else (in progress, executed, forced for partners) is refused.
    """
    result = BulkResult()
    with transaction.atomic():
        for batch in _row_batches(admin, tasks):
            _delete_batch(admin, batch, result)
    return result


def _row_batches(
    admin: Any, tasks: QuerySet[UpdateTask] | Iterable[Any]
) -> Iterator[list[tuple[int, str, bool, int]]]:
    if isinstance(tasks, QuerySet):
        rows = tasks.order_by("pk").values_list("pk", "status", "is_forced", "partner_id")
        # Keyset batches: deleting changes the rows a status filter matches, so an offset
        # would skip some.
        last_pk = 0
        while batch := list(rows.filter(pk__gt=last_pk)[:BATCH]):
            yield batch
            last_pk = batch[-1][0]
        return
    loaded = [(t.pk, t.status, t.is_forced, t.partner_id) for t in visible_tasks(admin, tasks)]
    for offset in range(0, len(loaded), BATCH):
        yield loaded[offset : offset + BATCH]


def _delete_batch(admin: Any, rows: list[tuple[int, str, bool, int]], result: BulkResult) -> None:
    planned, failed, partner_of = [], [], {}
    for pk, status, is_forced, partner_id in rows:
        partner_of[pk] = partner_id
        if is_forced and not admin.is_platform_admin:  # R7: planned or failed alike
            result.refused.append(Refusal(pk, "forced"))
        elif status == Status.PLANNED:
            planned.append(pk)
        elif status == Status.FAILED:
            failed.append(pk)
        else:
            result.refused.append(Refusal(pk, "not_planned"))
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


def delete_task(admin: Any, task_id: Any) -> None:
    task = get_task_for(admin, task_id)
    reason = refusal_reason(admin, task, verb="delete")
    if reason:
        raise_refusal(reason)
    result = delete_tasks(admin, [task.pk])
    if result.refused:
        raise_refusal(result.refused[0].reason)
