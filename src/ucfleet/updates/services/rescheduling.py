"""Moving planned tasks to a new start (R9)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import bulk_compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import custom_period, refuse_if_in_maintenance
from ucfleet.updates.queries import get_task_for
from ucfleet.updates.rules import TaskAction, refusal
from ucfleet.updates.services.refusals import raise_refusal, visible_tasks
from ucfleet.updates.services.results import BulkResult, Refusal


def reschedule_tasks(
    admin: Actor, task_ids: Iterable[Any], *, start: datetime, notify_partner: bool
) -> BulkResult:
    """Move planned tasks to a new custom start (R9); refused ones are reported per task."""
    earliest, latest = custom_period(start, now=utcnow())
    refuse_if_in_maintenance(earliest, latest)
    result = BulkResult()
    with transaction.atomic():
        tasks = visible_tasks(admin, task_ids)
        movable = []
        for task in tasks:
            reason = refusal(admin, task, TaskAction.POSTPONE)
            if reason:
                result.refused.append(Refusal(task.pk, reason))
            else:
                movable.append(task)
        move_tasks(
            admin,
            movable,
            result,
            earliest=earliest,
            latest=latest,
            timing=Timing.CUSTOM,
            notify_partner=notify_partner,
        )
    return result


def move_tasks(
    admin: Actor,
    tasks: list[UpdateTask],
    result: BulkResult,
    *,
    earliest: datetime,
    latest: datetime | None,
    timing: str,
    notify_partner: bool,
) -> None:
    """Compare-and-set the new period on `tasks` (still planned), log and tell (R9, R15)."""
    move_tasks_to(
        admin,
        tasks,
        result,
        periods={t.pk: (earliest, latest) for t in tasks},
        timing=timing,
        notify_partner=notify_partner,
    )


def move_tasks_to(
    admin: Actor,
    tasks: list[UpdateTask],
    result: BulkResult,
    *,
    periods: dict[int, tuple[datetime, datetime | None]],
    timing: str,
    notify_partner: bool,
) -> None:
    """As `move_tasks`, each task to its own period (window tasks spread over occurrences
    with room, R23): one compare-and-set per distinct period, one change log, one e-mail
    event."""
    old = {t.pk: t for t in tasks}
    by_period: dict[tuple[datetime, datetime | None], list[int]] = defaultdict(list)
    for pk in old:
        by_period[periods[pk]].append(pk)
    moved: list[int] = []
    for (earliest, latest), pks in sorted(by_period.items(), key=lambda kv: kv[0][0]):
        done = bulk_compare_and_set(
            UpdateTask,
            pks,
            expected={"status": Status.PLANNED},
            changes={"earliest_start": earliest, "latest_start": latest, "timing": timing},
        )
        moved += done
        if done:
            result.moved_to.append(earliest)
    result.done += moved
    # One set for the whole batch: rebuilding it per task made 33,000 tasks quadratic
    # (~20 s inside the write transaction).
    moved_ids = set(moved)
    result.refused += [Refusal(pk, "changed") for pk in old if pk not in moved_ids]
    record_many(
        admin,
        (
            Change(
                "reschedule",
                "update_task",
                pk,
                "earliest_start",
                old[pk].earliest_start.isoformat(),
                periods[pk][0].isoformat(),
                partner_id=old[pk].partner_id,
            )
            for pk in moved
        ),
    )
    if moved:
        notify.notify_tasks_rescheduled(
            {pk: old[pk].earliest_start for pk in moved}, notify_partner=notify_partner
        )


def reschedule_task(
    admin: Actor, task_id: Any, *, start: datetime, notify_partner: bool
) -> UpdateTask:
    """Postpone one task; raises NotFound / Forbidden / Conflict / Invalid."""
    task = get_task_for(admin, task_id)
    reason = refusal(admin, task, TaskAction.POSTPONE)
    if reason:
        raise_refusal(reason)
    result = reschedule_tasks(admin, [task.pk], start=start, notify_partner=notify_partner)
    if result.refused:
        raise_refusal(result.refused[0].reason)
    task.refresh_from_db()
    return task
