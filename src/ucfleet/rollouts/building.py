"""A rollout is made in the transaction that creates its tasks (R18, R20).

`updates.services.creating.schedule_updates` calls `new_rollout` before it inserts the
tasks and `settle_rollout` after: the tasks of wave 1 are inserted `planned`, the tasks of
later waves `held`, and every task carries the rollout's id, its wave and its request_id.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count

from ucfleet.accounts.actors import Actor
from ucfleet.core.timeutils import to_zone
from ucfleet.maintenance.queries import server_zone
from ucfleet.rollouts.choices import RolloutStatus, WaveStatus
from ucfleet.rollouts.models import Rollout, RolloutWave
from ucfleet.rollouts.waves import validate_budget, validate_soak, validate_waves, wave_sizes
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.plan_rows import PlannedTasks
from ucfleet.updates.planning import SchedulePlan, ScheduleRequest

# A selection of tenant ids is kept on the rollout up to this many (the tasks name them all).
MAX_SELECTION_IDS = 1000


@dataclass(frozen=True)
class WavePlan:
    """One wave of a request: its tenants (in the plan's order) and how they start."""

    index: int
    tasks: PlannedTasks  # a range of the plan's columns

    @property
    def size(self) -> int:
        return len(self.tasks)

    @property
    def task_status(self) -> str:
        return Status.PLANNED if self.index == 1 else Status.HELD


@dataclass(frozen=True)
class RolloutOptions:
    waves: list[dict[str, Any]]
    soak_minutes: int
    max_failures: int | None
    max_failure_percent: float | None


def validate_options(request: ScheduleRequest) -> RolloutOptions:
    """The rollout's part of a request, checked before anything is planned (400s)."""
    waves = validate_waves(request.waves, timing=request.timing)
    soak = validate_soak(request.soak_minutes)
    max_failures, max_percent = validate_budget(request.max_failures, request.max_failure_percent)
    return RolloutOptions(waves, soak, max_failures, max_percent)


def split_waves(plan: SchedulePlan, options: RolloutOptions) -> list[WavePlan]:
    """The planned tenants in consecutive waves (the plan's order: by tenant id)."""
    result: list[WavePlan] = []
    offset = 0
    for index, size in enumerate(wave_sizes(len(plan.planned), options.waves), start=1):
        tasks = plan.planned[offset : offset + size]
        tasks.set_wave(index)
        result.append(WavePlan(index, tasks))
        offset += size
    plan.waves = result
    return result


def selection_of(request: ScheduleRequest) -> dict[str, Any]:
    """What the rollout was made from, as JSON (R18)."""
    chosen_filter = getattr(request, "filter", None)
    if chosen_filter is not None:
        value = (
            dataclasses.asdict(chosen_filter)
            if dataclasses.is_dataclass(chosen_filter) and not isinstance(chosen_filter, type)
            else chosen_filter
        )
        return {"filter": value}
    if request.all_tenants:
        return {"all": True}
    if request.partner_id is not None:
        return {"partner": request.partner_id}
    ids = sorted(set(request.tenant_ids or []))
    if len(ids) > MAX_SELECTION_IDS:
        return {"tenant_count": len(ids)}
    return {"tenants": ids}


def default_name(plan: SchedulePlan, created: datetime) -> str:
    """R18: the target version and the creation date (server time)."""
    return f"{plan.target_version.name} {to_zone(created, server_zone()):%Y-%m-%d}"


def new_rollout(
    admin: Actor,
    request: ScheduleRequest,
    plan: SchedulePlan,
    options: RolloutOptions,
    *,
    request_id: uuid.UUID,
    created: datetime,
    selection: dict[str, Any] | None = None,
) -> tuple[Rollout, list[WavePlan]]:
    waves = split_waves(plan, options)
    rollout = Rollout.objects.create(
        name=(request.name or "").strip()[:200] or default_name(plan, created),
        created_by_id=admin.pk,
        created=created,
        target_version=plan.target_version,
        timing=request.timing,
        task_type=request.task_type,
        forced=request.forced,
        redeploy=request.redeploy,
        notify_partner=request.notify_partner,
        notify_customer=request.notify_customer,
        wait_for_idle=request.wait_for_idle,
        soak_minutes=options.soak_minutes,
        max_failures=options.max_failures,
        max_failure_percent=options.max_failure_percent,
        status=RolloutStatus.SCHEDULED,
        selection=selection if selection is not None else selection_of(request),
        custom_start=plan.earliest_start if request.timing == Timing.CUSTOM else None,
        request_id=request_id,
    )
    RolloutWave.objects.bulk_create(
        RolloutWave(
            rollout=rollout,
            index=w.index,
            size=w.size,
            status=WaveStatus.RELEASED if w.index == 1 else WaveStatus.HELD,
            released_at=created if w.index == 1 else None,
        )
        for w in waves
    )
    return rollout, waves


def settle_rollout(rollout: Rollout) -> Rollout | None:
    """After the insert: the waves' sizes are what the database took (a racing request may
    have taken some tenants, R4). A rollout that got no task is not kept."""
    sizes = dict(
        UpdateTask.objects.filter(rollout=rollout)
        .order_by()
        .values_list("wave")
        .annotate(n=Count("id"))
    )
    if not sizes:
        rollout.delete()
        return None
    for wave in rollout.waves.all():
        if wave.size != sizes.get(wave.index, 0):
            RolloutWave.objects.filter(pk=wave.pk).update(size=sizes.get(wave.index, 0))
    return rollout
