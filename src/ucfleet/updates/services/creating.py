"""Creating update tasks (R2–R7, R15): one per planned tenant, in bulk."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django.db import connection, transaction

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.core.chunks import chunks
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.updates.choices import SkipReason, Status
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import (
    BATCH,
    PlannedTask,
    SchedulePlan,
    ScheduleRequest,
    Skip,
    plan_in_batches,
    plan_updates,
)
from ucfleet.updates.services.pg_insert import insert_task_rows_pg
from ucfleet.updates.services.results import ScheduleResult
from ucfleet.webhooks.emission import emit_task_changes


def preview_updates(admin: Actor, request: ScheduleRequest) -> SchedulePlan:
    """What `schedule_updates` would do now, per tenant; writes nothing."""
    return plan_updates(admin, request)


# --- create --------------------------------------------------------------------------------

# The columns that differ per task, read from PlannedTask's fields of the same names; every
# other column is one of the request's constants, named by the dict `schedule_updates` passes.
_PER_TENANT_COLUMNS = ("tenant_id", "partner_id", "from_version_id")


def _insert_tasks(planned: list[PlannedTask], constants: dict[str, Any]) -> int:
    """Insert the task rows with executemany; a tenant that got an open task from a racing
    request in the meantime is left out by the database (R4), not by us.

    Raw SQL because this is the bulk path (100,000 rows); the values are prepared by the
    model fields themselves, so types match what the ORM would write. Returns the number of
    rows the database wrote. PostgreSQL: one statement per batch (insert_task_rows_pg).
    """
    if connection.vendor == "postgresql":
        return insert_task_rows_pg(planned, constants, per_tenant=_PER_TENANT_COLUMNS)
    opts = UpdateTask._meta
    fields = {f.attname: f for f in opts.concrete_fields}
    prepared = {
        name: fields[name].get_db_prep_save(value, connection) for name, value in constants.items()
    }
    table = connection.ops.quote_name(opts.db_table)
    names = (*_PER_TENANT_COLUMNS, *prepared)
    columns = ", ".join(connection.ops.quote_name(fields[c].column) for c in names)
    marks = ", ".join(["%s"] * len(names))
    constant_values = tuple(prepared.values())
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    written = 0
    with connection.cursor() as cursor:
        for batch in chunks(planned, BATCH):
            cursor.executemany(
                sql,
                [(*(getattr(p, c) for c in _PER_TENANT_COLUMNS), *constant_values) for p in batch],
            )
            written += max(cursor.rowcount, 0)
    return written


def schedule_updates(admin: Actor, request: ScheduleRequest) -> ScheduleResult:
    """Create one task per planned tenant (R2–R7), tell who asked to be told (R15).

    The plan is streamed (planning.plan_in_batches): each batch is inserted before the next
    is planned, so memory holds one batch, whatever the platform's size."""
    request_id = uuid.uuid4()
    with transaction.atomic():
        plan, batches = plan_in_batches(admin, request)
        created_at = utcnow()
        constants = {
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
        }
        created = UpdateTask.objects.filter(request_id=request_id)
        per_partner: dict[int, int] = defaultdict(int)
        lost: list[PlannedTask] = []
        for batch in batches:
            written = _insert_tasks(batch, constants)
            missing = _missing(batch, created) if written != len(batch) else []
            lost += missing
            for p in batch:
                per_partner[p.partner_id] += 1
            for p in missing:
                per_partner[p.partner_id] -= 1
        created_count = plan.planned_count - len(lost)
        skipped = list(plan.skipped)
        skipped += [Skip(p.tenant_id, p.tenant_name, SkipReason.OPEN_TASK_EXISTS) for p in lost]
        lost_ids = {p.tenant_id for p in lost}
        warnings = [w for w in plan.warnings if w.tenant_id not in lost_ids]
        _log_created(admin, plan, request_id, per_partner)
        if created_count:
            notify.notify_tasks_created(request_id)
            emit_task_changes(created.values_list("pk", flat=True), previous=None)
    return ScheduleResult(
        request_id,
        created.order_by("earliest_start", "id"),
        created_count,
        skipped,
        warnings,
        plan,
    )


def _missing(batch: list[PlannedTask], created: Any) -> list[PlannedTask]:
    """The batch's tenants the insert left out (a racing request's open task, R4)."""
    ids = [p.tenant_id for p in batch]
    there = {
        tenant_id
        for piece in chunks(ids)
        for tenant_id in created.filter(tenant_id__in=piece).values_list("tenant_id", flat=True)
    }
    return [p for p in batch if p.tenant_id not in there]


def _log_created(
    admin: Actor, plan: SchedulePlan, request_id: uuid.UUID, per_partner: dict[int, int]
) -> None:
    """One change-log entry per partner and request: a platform-wide request stays readable."""
    per_partner = {partner: count for partner, count in per_partner.items() if count}
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
