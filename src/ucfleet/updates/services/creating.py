"""Creating update tasks (R2–R7, R15): one per planned tenant, in bulk."""

from __future__ import annotations

import uuid
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
from ucfleet.updates.plan_rows import PlannedTask, PlannedTasks
from ucfleet.updates.planning import (
    BATCH,
    SchedulePlan,
    ScheduleRequest,
    Skip,
    place_first_wave,
    plan_updates,
)
from ucfleet.updates.services.pg_insert import insert_task_rows_pg
from ucfleet.updates.services.results import ScheduleResult
from ucfleet.webhooks.emission import emit_task_changes


def preview_updates(admin: Actor, request: ScheduleRequest) -> SchedulePlan:
    """What `schedule_updates` would do now, per tenant and wave (`plan.waves`, each
    tenant's `wave`); writes nothing."""
    options = rollouts.validate_options(request)
    moment = utcnow()
    plan = plan_updates(admin, request, now=moment)
    waves = rollouts.split_waves(plan, options)
    place_first_wave(plan, waves[0].tasks if waves else plan.planned, now=moment)
    return plan


# --- create --------------------------------------------------------------------------------

# The columns that differ per task, read from PlannedTask's fields of the same names; every
# other column is one of the request's constants, named by the dict `schedule_updates` passes.
# The period differs per task too: maintenance-window tasks spread over occurrences (R23).
_PER_TENANT_COLUMNS = ("tenant_id", "partner_id", "from_version_id")
_PERIOD_COLUMNS = ("earliest_start", "latest_start")


def _insert_tasks(planned: PlannedTasks, constants: dict[str, Any]) -> None:
    """Insert the task rows with executemany; a tenant that got an open task from a racing
    request in the meantime is left out by the database (R4), not by us.

    Raw SQL because this is the bulk path (100,000 rows); the values are prepared by the
    model fields themselves, so types match what the ORM would write. PostgreSQL: one
    statement per batch (`pg_insert`).
    """
    if connection.vendor == "postgresql":
        insert_task_rows_pg(planned, constants, per_tenant=(*_PER_TENANT_COLUMNS, *_PERIOD_COLUMNS))
        return
    opts = UpdateTask._meta
    fields = {f.attname: f for f in opts.concrete_fields}
    prepared = {
        name: fields[name].get_db_prep_save(value, connection) for name, value in constants.items()
    }
    table = connection.ops.quote_name(opts.db_table)
    names = (*_PER_TENANT_COLUMNS, *_PERIOD_COLUMNS, *prepared)
    columns = ", ".join(connection.ops.quote_name(fields[c].column) for c in names)
    marks = ", ".join(["%s"] * len(names))
    constant_values = tuple(prepared.values())
    # A request has few distinct periods (one per occurrence used): each is prepared once.
    earliest_field, latest_field = (fields[c] for c in _PERIOD_COLUMNS)
    periods: dict[tuple[Any, Any], tuple[Any, Any]] = {}

    def period(p: PlannedTask) -> tuple[Any, Any]:
        key = (p.earliest_start, p.latest_start)
        if key not in periods:
            periods[key] = (
                earliest_field.get_db_prep_save(p.earliest_start, connection),
                latest_field.get_db_prep_save(p.latest_start, connection),
            )
        return periods[key]

    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for batch in chunks(planned, BATCH):
            cursor.executemany(
                sql,
                [
                    (p.tenant_id, p.partner_id, p.from_version_id, *period(p), *constant_values)
                    for p in batch
                ],
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
        created_at = utcnow()
        plan = plan_updates(admin, request, now=created_at)
        rollout, waves = rollouts.new_rollout(
            admin,
            request,
            plan,
            options,
            request_id=request_id,
            created=created_at,
            selection=selection,
        )
        # R23: wave 1 into occurrences with room; held waves are placed when released.
        place_first_wave(plan, waves[0].tasks if waves else plan.planned, now=created_at)
        constants = {
            "task_type": request.task_type,
            "target_version_id": plan.target_version.pk,
            "timing": request.timing,
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
        created_count = created.count()
        skipped, warnings, lost = list(plan.skipped), plan.warnings, set()
        if created_count != len(plan.planned):
            # A racing request took some tenants (R4): only then are the ids compared.
            created_ids = set(created.values_list("tenant_id", flat=True))
            lost = {p.tenant_id for p in plan.planned if p.tenant_id not in created_ids}
            skipped += [
                Skip(p.tenant_id, p.tenant_name, SkipReason.OPEN_TASK_EXISTS)
                for p in plan.planned
                if p.tenant_id in lost
            ]
            warnings = [w for w in plan.warnings if w.tenant_id in created_ids]
        kept = rollouts.settle_rollout(rollout)
        _log_created(admin, plan, request_id, lost, kept)
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
        kept,
    )


def _log_created(
    admin: Actor,
    plan: SchedulePlan,
    request_id: uuid.UUID,
    lost: set[int],
    rollout: Rollout | None,
) -> None:
    """One change-log entry per partner and request: a platform-wide request stays readable.
    It names the partner's first start, and its last where its tasks spread (R23). `lost`:
    the planned tenants a racing request took (no task of this request)."""
    per_partner: dict[int, list[Any]] = {}
    rows = zip(
        plan.planned.column("tenant_id"),
        plan.planned.column("partner_id"),
        plan.planned.column("earliest_start"),
        strict=True,
    )
    for tenant_id, partner_id, start in rows:
        if lost and tenant_id in lost:
            continue
        entry = per_partner.get(partner_id)
        if entry is None:
            per_partner[partner_id] = [1, start, start]
            continue
        entry[0] += 1
        if start < entry[1]:
            entry[1] = start
        elif start > entry[2]:
            entry[2] = start

    def summary(first: Any, last: Any) -> str:
        when = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        return f"{plan.target_version.name} ({plan.timing}, {when})"

    record_many(
        admin,
        (
            Change(
                "create",
                "update_request",
                request_id,
                "tasks",
                "",
                f"{count} × {summary(first, last)}",
                partner_id=partner_id,
            )
            for partner_id, (count, first, last) in per_partner.items()
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
