"""The only writers of update tasks: schedule, reschedule, delete, retry, and the conflicts
of a platform maintenance (R2–R9). The portal, the API and the CLI all call these.

Every write happens in one transaction together with its change-log entries and outbox
rows; state changes are compare-and-set on `status`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from ucfleet.audit.services import Change, record, record_many
from ucfleet.core.cas import bulk_compare_and_set, compare_and_set
from ucfleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from ucfleet.core.ids import lookup_id
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance import queries as maintenance
from ucfleet.maintenance.services import get_maintenance, require_platform_admin
from ucfleet.notifications import services as notify
from ucfleet.updates.choices import SkipReason, Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import (
    BATCH,
    Notice,
    PlannedTask,
    SchedulePlan,
    ScheduleRequest,
    Skip,
    custom_period,
    plan_updates,
    refuse_if_in_maintenance,
)
from ucfleet.updates.queries import get_task_for, tasks_visible_to

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


@dataclass
class ScheduleResult:
    request_id: uuid.UUID
    created: QuerySet[UpdateTask]  # lazy: a platform-wide request may create 100,000
    created_count: int
    skipped: list[Skip]
    warnings: list[Notice]
    plan: SchedulePlan


@dataclass(frozen=True)
class Refusal:
    task_id: int
    reason: str


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def preview_updates(admin: Any, request: ScheduleRequest) -> SchedulePlan:
    """What `schedule_updates` would do now, per tenant; writes nothing."""
    return plan_updates(admin, request)


# --- create --------------------------------------------------------------------------------

_INSERT_COLUMNS = (
    "tenant_id",
    "partner_id",
    "from_version_id",
    "task_type",
    "target_version_id",
    "timing",
    "earliest_start",
    "latest_start",
    "is_forced",
    "redeploy",
    "notify_partner",
    "notify_customer",
    "status",
    "is_archived",
    "scheduled_by_id",
    "request_id",
    "created",
    "failure_reason",
    "claimed_by",
    "wait_for_idle",
)


def _insert_tasks(planned: list[PlannedTask], constants: dict[str, Any]) -> None:
    """Insert the task rows with executemany; a tenant that got an open task from a racing
    request in the meantime is left out by the database (R4), not by us.

    Raw SQL because this is the bulk path (100,000 rows); the values are prepared by the
    model fields themselves, so types match what the ORM would write.
    """
    opts = UpdateTask._meta
    fields = {f.attname: f for f in opts.concrete_fields}
    prepared = {
        name: fields[name].get_db_prep_save(value, connection) for name, value in constants.items()
    }
    table = connection.ops.quote_name(opts.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
    marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    constant_values = tuple(prepared[c] for c in _INSERT_COLUMNS[3:])
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for offset in range(0, len(planned), BATCH):
            cursor.executemany(
                sql,
                [
                    (p.tenant_id, p.partner_id, p.from_version_id, *constant_values)
                    for p in planned[offset : offset + BATCH]
                ],
            )


def schedule_updates(admin: Any, request: ScheduleRequest) -> ScheduleResult:
    """Create one task per planned tenant (R2–R7), tell who asked to be told (R15)."""
    request_id = uuid.uuid4()
    with transaction.atomic():
        plan = plan_updates(admin, request)
        created_at = utcnow()
        _insert_tasks(
            plan.planned,
            {
                "task_type": request.task_type,
                "target_version_id": plan.target_version.pk,
                "timing": request.timing,
                "earliest_start": plan.earliest_start,
                "latest_start": plan.latest_start,
                "is_forced": request.forced,
                "redeploy": request.redeploy,
                "notify_partner": request.notify_partner,
                "notify_customer": request.notify_customer,
                "status": Status.PLANNED,
                "is_archived": False,
                "scheduled_by_id": admin.pk,
                "request_id": request_id,
                "created": created_at,
                "failure_reason": "",
                "claimed_by": "",
                "wait_for_idle": request.wait_for_idle,
            },
        )
        created = UpdateTask.objects.filter(request_id=request_id)
        created_ids = set(created.values_list("tenant_id", flat=True))
        skipped = list(plan.skipped)
        if len(created_ids) != len(plan.planned):
            lost = [p for p in plan.planned if p.tenant_id not in created_ids]
            skipped += [Skip(p.tenant_id, p.tenant_name, SkipReason.OPEN_TASK_EXISTS) for p in lost]
        warnings = [w for w in plan.warnings if w.tenant_id in created_ids]
        _log_created(admin, plan, request_id, created_ids)
        if created_ids:
            notify.notify_tasks_created(request_id)
    return ScheduleResult(
        request_id,
        created.order_by("earliest_start", "id"),
        len(created_ids),
        skipped,
        warnings,
        plan,
    )


def _log_created(
    admin: Any, plan: SchedulePlan, request_id: uuid.UUID, created_ids: set[int]
) -> None:
    """One change-log entry per partner and request: a platform-wide request stays readable."""
    per_partner: dict[int, int] = defaultdict(int)
    for p in plan.planned:
        if p.tenant_id in created_ids:
            per_partner[p.partner_id] += 1
    summary = f"{plan.target_version.name} ({plan.timing}, {plan.earliest_start.isoformat()})"
    record_many(
        admin,
        (
            Change(
                "create",
                "update_request",
                request_id,
                "tasks",
                "",
                f"{count} × {summary}",
                partner_id=partner_id,
            )
            for partner_id, count in per_partner.items()
        ),
    )


# --- reschedule ----------------------------------------------------------------------------


def _check_changeable(admin: Any, task: UpdateTask, *, verb: str) -> str | None:
    """Why `admin` may not postpone/delete this task (R9), or None."""
    if task.is_forced and not admin.is_platform_admin:
        return "forced"
    if task.status != Status.PLANNED and not (verb == "delete" and task.status == Status.FAILED):
        return "not_planned"
    return None


_REFUSAL_TEXT = {
    "forced": lambda: _("Forced tasks can only be changed by platform administrators."),
    "not_planned": lambda: _("Only planned tasks can be changed."),
    "changed": lambda: _("The task changed in the meantime."),
}


def _raise_refusal(reason: str) -> None:
    if reason == "forced":
        raise Forbidden(_REFUSAL_TEXT[reason]())
    raise Conflict(_REFUSAL_TEXT[reason](), code=reason)


def _visible_tasks(admin: Any, task_ids: Iterable[Any]) -> list[UpdateTask]:
    """The tasks with these ids, all visible to `admin`, or NotFound (R1: one foreign id
    fails the whole request, without saying which)."""
    ids = sorted({lookup_id(i) for i in task_ids})
    tasks: list[UpdateTask] = []
    for offset in range(0, len(ids), BATCH):
        tasks += tasks_visible_to(admin).filter(pk__in=ids[offset : offset + BATCH])
    if len(tasks) != len(ids):
        raise NotFound(_("No such update task."))
    return tasks


def reschedule_tasks(
    admin: Any, task_ids: Iterable[Any], *, start: datetime, notify_partner: bool
) -> BulkResult:
    """Move planned tasks to a new custom start (R9); refused ones are reported per task."""
    earliest, latest = custom_period(start, now=utcnow())
    refuse_if_in_maintenance(earliest, latest)
    result = BulkResult()
    with transaction.atomic():
        tasks = _visible_tasks(admin, task_ids)
        movable = []
        for task in tasks:
            reason = _check_changeable(admin, task, verb="postpone")
            if reason:
                result.refused.append(Refusal(task.pk, reason))
            else:
                movable.append(task)
        _move(
            admin,
            movable,
            result,
            earliest=earliest,
            latest=latest,
            timing=Timing.CUSTOM,
            notify_partner=notify_partner,
        )
    return result


def _move(
    admin: Any,
    tasks: list[UpdateTask],
    result: BulkResult,
    *,
    earliest: datetime,
    latest: datetime | None,
    timing: str,
    notify_partner: bool,
) -> None:
    old = {t.pk: t for t in tasks}
    moved = bulk_compare_and_set(
        UpdateTask,
        list(old),
        expected={"status": Status.PLANNED},
        changes={"earliest_start": earliest, "latest_start": latest, "timing": timing},
    )
    result.done += moved
    result.refused += [Refusal(pk, "changed") for pk in old if pk not in set(moved)]
    record_many(
        admin,
        (
            Change(
                "reschedule",
                "update_task",
                pk,
                "earliest_start",
                old[pk].earliest_start.isoformat(),
                earliest.isoformat(),
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
    admin: Any, task_id: Any, *, start: datetime, notify_partner: bool
) -> UpdateTask:
    """Postpone one task; raises NotFound / Forbidden / Conflict / Invalid."""
    task = get_task_for(admin, task_id)
    reason = _check_changeable(admin, task, verb="postpone")
    if reason:
        _raise_refusal(reason)
    result = reschedule_tasks(admin, [task.pk], start=start, notify_partner=notify_partner)
    if result.refused:
        _raise_refusal(result.refused[0].reason)
    task.refresh_from_db()
    return task


# --- delete --------------------------------------------------------------------------------


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
    loaded = [(t.pk, t.status, t.is_forced, t.partner_id) for t in _visible_tasks(admin, tasks)]
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
    reason = _check_changeable(admin, task, verb="delete")
    if reason:
        _raise_refusal(reason)
    result = delete_tasks(admin, [task.pk])
    if result.refused:
        _raise_refusal(result.refused[0].reason)


# --- retry ---------------------------------------------------------------------------------


def retry_task(admin: Any, task_id: Any) -> UpdateTask:
    """A failed task gets a new planned, immediate task with the same options (R14), under
    every scheduling rule; the failed one leaves the list."""
    task = get_task_for(admin, task_id)
    if task.status != Status.FAILED:
        raise Conflict(_("Only failed tasks can be retried."), code="not_failed")
    if task.is_forced and not admin.is_platform_admin:
        raise Forbidden(_REFUSAL_TEXT["forced"]())
    with transaction.atomic():
        # Compare-and-set first: of two racing retries of one task, only one goes on.
        if not compare_and_set(
            UpdateTask,
            task.pk,
            expected={"status": Status.FAILED, "is_archived": False},
            changes={"is_archived": True},
        ):
            raise Conflict(_("The task was retried or deleted meanwhile."), code="changed")
        result = schedule_updates(
            admin,
            ScheduleRequest(
                timing=Timing.IMMEDIATE,
                target_version=task.target_version_id,
                tenant_ids=[task.tenant_id],
                task_type=task.task_type,
                forced=task.is_forced,
                redeploy=task.redeploy,
                notify_partner=task.notify_partner,
                notify_customer=task.notify_customer,
                wait_for_idle=task.wait_for_idle,
                confirm_downgrade=True,
                confirm_auto_update_disabled=True,
            ),
        )
        if not result.created_count:
            skip = result.skipped[0]
            raise Conflict(skip.text, code=skip.reason)  # also undoes the archiving
        new_task = result.created.get()
        UpdateTask.objects.filter(pk=new_task.pk).update(retry_of=task)
        record(
            admin,
            Change(
                "retry",
                "update_task",
                task.pk,
                "retried_as",
                "",
                new_task.pk,
                partner_id=task.partner_id,
            ),
        )
    new_task.retry_of = task
    return new_task


# --- platform maintenance conflicts (R8) ---------------------------------------------------


def tasks_conflicting_with(admin: Any, maintenance_id: Any) -> QuerySet[UpdateTask]:
    """Planned tasks whose period [earliest, latest] overlaps the maintenance."""
    m = get_maintenance(maintenance_id)
    period_end_after_start = Q(latest_start__isnull=True, earliest_start__gte=m.start) | Q(
        latest_start__gte=m.start
    )
    return (
        tasks_visible_to(admin)
        .filter(period_end_after_start, status=Status.PLANNED, earliest_start__lt=m.end)
        .order_by("earliest_start", "id")
    )


def _first_free_instant(after: datetime) -> datetime:
    """The first instant at or after `after` outside every platform maintenance."""
    moment = after
    while (running := maintenance.running_maintenance(moment)) is not None:
        moment = running.end
    return moment


def resolve_conflicts(admin: Any, maintenance_id: Any, *, action: str) -> BulkResult:
    """Delete the conflicting tasks (cancellation e-mails) or move them to the next allowed
    time (reschedule e-mails): window tasks to the next free window, others to the end of
    the maintenance."""
    require_platform_admin(admin)
    if action not in {"delete", "move"}:
        raise Invalid.field("action", _("The action must be delete or move."))
    m = get_maintenance(maintenance_id)
    conflicts = tasks_conflicting_with(admin, m.pk)
    if action == "delete":
        return delete_tasks(admin, conflicts)
    result = BulkResult()
    with transaction.atomic():
        by_timing: dict[str, list[UpdateTask]] = defaultdict(list)
        for task in conflicts:
            by_timing[task.timing].append(task)
        for timing, tasks in by_timing.items():
            earliest, latest = _next_allowed_period(timing, after=m.end)
            refuse_if_in_maintenance(earliest, latest, field_name="action")
            _move(
                admin,
                tasks,
                result,
                earliest=earliest,
                latest=latest,
                timing=timing,
                notify_partner=True,
            )
    return result


def _next_allowed_period(timing: str, *, after: datetime) -> tuple[datetime, datetime | None]:
    """Window tasks go to the next free window occurrence; the others start when the
    maintenance (and any maintenance right after it) is over."""
    if timing == Timing.MAINTENANCE_WINDOW:
        occurrence = maintenance.next_task_window(utcnow())
        if occurrence is None:
            raise Invalid.field("action", _("No later maintenance window is free."))
        expected = timedelta(minutes=maintenance.get_window().expected_task_minutes)
        return occurrence.start, occurrence.latest_start(expected)
    start = _first_free_instant(after)
    if timing == Timing.IMMEDIATE:
        return start, None
    return start, start + timedelta(minutes=settings.UCFLEET["CUSTOM_START_GRACE_MINUTES"])
