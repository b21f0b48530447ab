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
from ucfleet.rollouts import building as rollouts
from ucfleet.rollouts.models import Rollout
from ucfleet.updates.choices import SkipReason, Status
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import (
    BATCH,
    PlannedTask,
    SchedulePlan,
    ScheduleRequest,
    Skip,
    plan_updates,
)
from ucfleet.updates.services.results import ScheduleResult
from ucfleet.webhooks.emission import emit_task_changes


def preview_updates(admin: Actor, request: ScheduleRequest) -> SchedulePlan:
    """What `schedule_updates` would do now, per tenant and wave (`plan.waves`, each
    tenant's `wave`); writes nothing."""
    options = rollouts.validate_options(request)
    plan = plan_updates(admin, request)
    rollouts.split_waves(plan, options)
    return plan


# --- create --------------------------------------------------------------------------------

# The columns that differ per task, read from PlannedTask's fields of the same names; every
# other column is one of the request's constants, named by the dict `schedule_updates` passes.
_PER_TENANT_COLUMNS = ("tenant_id", "partner_id", "from_version_id")


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
    names = (*_PER_TENANT_COLUMNS, *prepared)
    columns = ", ".join(connection.ops.quote_name(fields[c].column) for c in names)
    marks = ", ".join(["%s"] * len(names))
    constant_values = tuple(prepared.values())
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for batch in chunks(planned, BATCH):
            cursor.executemany(
                sql,
                [(*(getattr(p, c) for c in _PER_TENANT_COLUMNS), *constant_values) for p in batch],
            )


def schedule_updates(
    admin: Actor, request: ScheduleRequest, *, selection: dict[str, Any] | None = None
) -> ScheduleResult:
    """Create one rollout (R18) and one task per planned tenant (R2–R7): wave 1 planned,
    later waves held (R20); tell who asked to be told (R15). `selection`: what the rollout
    records it was made from, when not the request's own selection (retry-failed)."""
    request_id = uuid.uuid4()
    options = rollouts.validate_options(request)
    with transaction.atomic():
        plan = plan_updates(admin, request)
        created_at = utcnow()
        rollout, waves = rollouts.new_rollout(
            admin,
            request,
            plan,
            options,
            request_id=request_id,
            created=created_at,
            selection=selection,
        )
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
            "rollout_id": rollout.pk,
        }
        for wave in waves:
            _insert_tasks(wave.tasks, {**constants, "status": wave.task_status, "wave": wave.index})
        created = UpdateTask.objects.filter(request_id=request_id)
        created_ids = set(created.values_list("tenant_id", flat=True))
        skipped = list(plan.skipped)
        if len(created_ids) != len(plan.planned):
            lost = [p for p in plan.planned if p.tenant_id not in created_ids]
            skipped += [Skip(p.tenant_id, p.tenant_name, SkipReason.OPEN_TASK_EXISTS) for p in lost]
        warnings = [w for w in plan.warnings if w.tenant_id in created_ids]
        kept = rollouts.settle_rollout(rollout)
        _log_created(admin, plan, request_id, created_ids, kept)
        if created_ids:
            notify.notify_tasks_created(request_id)
            emit_task_changes(created.values_list("pk", flat=True), previous=None)
    return ScheduleResult(
        request_id,
        created.order_by("earliest_start", "id"),
        len(created_ids),
        skipped,
        warnings,
        plan,
        kept,
    )


def _log_created(
    admin: Actor,
    plan: SchedulePlan,
    request_id: uuid.UUID,
    created_ids: set[int],
    rollout: Rollout | None,
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
    if rollout is not None:
        record_many(
            admin,
            (
                Change("create", "rollout", rollout.pk, "name", "", rollout.name, partner_id=pid)
                for pid in per_partner
            ),
        )
