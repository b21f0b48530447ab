"""Releasing held waves (R20), from the worker's housekeeping tick.

A held wave is released when the wave before it has ended, its soak time has passed since,
and the rollout is neither paused nor finished. Its tasks (but those of partners that paused
their part) go `held → planned` with the start a new request of the same timing would get
now. The tick also settles what the hooks may have left (a wave whose last task ended in a
transaction that did not call them) and holds tasks that came back to `planned` while their
rollout was paused (a waiting or handed-back task).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from ucfleet.accounts.actors import SYSTEM
from ucfleet.core.cas import bulk_compare_and_set, compare_and_set
from ucfleet.core.errors import Invalid
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.rollouts import notify_wave_released
from ucfleet.rollouts import events
from ucfleet.rollouts.choices import ACTIVE_ROLLOUT_STATUSES, RolloutStatus, WaveStatus
from ucfleet.rollouts.models import Rollout, RolloutWave
from ucfleet.rollouts.transitions import hold_planned, settle
from ucfleet.updates.choices import OPEN_STATUSES, Status
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import task_period
from ucfleet.webhooks.emission import emit_task_changes

log = logging.getLogger(__name__)

Period = tuple[datetime, datetime | None]


def place_released(
    rollout: Rollout, task_rows: list[tuple[int, int]], *, now: datetime
) -> dict[Period, list[int]]:
    """THE call site of the start of released tasks: (earliest, latest) → task ids.

    `task_rows` are (task id, tenant id) in the wave's order. A new request of the same
    timing would start now (Immediately) or in the next maintenance-window occurrence.
    Capacity-aware placement (R23) swaps this body for
    `ucfleet.updates.capacity.place_in_windows` (tenants in order → each tenant's period),
    grouping the tasks by the period they got.
    """
    period = task_period(rollout.timing, None, now=now)
    return {period: [pk for pk, _ in task_rows]}


def release_wave(wave_id: int, *, now: datetime | None = None) -> list[int]:
    """Release one held wave now; returns the task ids that became planned. Nothing
    happens when the wave or its rollout changed meanwhile."""
    now = now or utcnow()
    with transaction.atomic():
        wave = RolloutWave.objects.select_related("rollout__target_version").get(pk=wave_id)
        rollout = Rollout.objects.select_for_update().get(pk=wave.rollout_id)
        if rollout.status not in ACTIVE_ROLLOUT_STATUSES:
            return []
        rows = list(
            UpdateTask.objects.filter(rollout=rollout, wave=wave.index, status=Status.HELD)
            .exclude(partner_id__in=rollout.paused_partners or [])
            .order_by("id")
            .values_list("pk", "tenant_id")
        )
        placed = place_released(rollout, rows, now=now)  # may refuse: Invalid (no window, R8)
        if not compare_and_set(
            RolloutWave,
            wave.pk,
            expected={"status": WaveStatus.HELD},
            changes={"status": WaveStatus.RELEASED, "released_at": now},
        ):
            return []
        released: list[int] = []
        for (earliest, latest), pks in placed.items():
            released += bulk_compare_and_set(
                UpdateTask,
                pks,
                expected={"status": Status.HELD},
                changes={
                    "status": Status.PLANNED,
                    "earliest_start": earliest,
                    "latest_start": latest,
                },
            )
        events.log_change(
            SYSTEM, rollout, "release", f"wave {wave.index}", WaveStatus.HELD, WaveStatus.RELEASED
        )
        if rollout.status == RolloutStatus.SCHEDULED:
            compare_and_set(
                Rollout,
                rollout.pk,
                expected={"status": RolloutStatus.SCHEDULED},
                changes={"status": RolloutStatus.RUNNING},
            )
        notify_wave_released(rollout.pk, wave.index, released)
        emit_task_changes(released, previous=Status.HELD)
    return released


def _due_waves(now: datetime) -> list[int]:
    previous = RolloutWave.objects.filter(rollout=OuterRef("rollout"), index=OuterRef("index") - 1)
    candidates = (
        RolloutWave.objects.filter(
            status=WaveStatus.HELD, rollout__status__in=list(ACTIVE_ROLLOUT_STATUSES)
        )
        .annotate(
            previous_status=Subquery(previous.values("status")[:1]),
            previous_ended=Subquery(previous.values("ended_at")[:1]),
        )
        .filter(previous_status=WaveStatus.ENDED)
        .values_list("pk", "previous_ended", "rollout__soak_minutes")
        .order_by("rollout_id", "index")
    )
    return [
        pk
        for pk, ended, soak in candidates
        if ended is not None and ended + timedelta(minutes=soak) <= now
    ]


def _settle_quiet_waves(now: datetime) -> None:
    """Released waves of unfinished rollouts without an open task: settle their rollouts."""
    open_tasks = UpdateTask.objects.filter(
        rollout=OuterRef("rollout"), wave=OuterRef("index"), status__in=OPEN_STATUSES
    )
    rollout_ids = set(
        RolloutWave.objects.filter(
            status=WaveStatus.RELEASED,
            rollout__status__in=[*ACTIVE_ROLLOUT_STATUSES, RolloutStatus.PAUSED],
        )
        .filter(~Exists(open_tasks))
        .values_list("rollout_id", flat=True)
    )
    for rollout_id in sorted(rollout_ids):
        with transaction.atomic():
            rollout = (
                Rollout.objects.select_for_update()
                .select_related("target_version")
                .get(pk=rollout_id)
            )
            settle(rollout, at=now)


def _mark_running() -> None:
    """A scheduled rollout whose first task started is running."""
    started = UpdateTask.objects.filter(rollout=OuterRef("pk")).exclude(
        status__in=[Status.PLANNED, Status.HELD]
    )
    Rollout.objects.filter(status=RolloutStatus.SCHEDULED).filter(Exists(started)).update(
        status=RolloutStatus.RUNNING
    )


def _rehold_paused() -> None:
    """A task that came back to planned (waiting for a busy tenant, handed back by a
    stopping worker) while its rollout, or its partner's part, was paused is held again."""
    planned = UpdateTask.objects.filter(rollout=OuterRef("pk"), status=Status.PLANNED)
    for rollout in Rollout.objects.filter(status=RolloutStatus.PAUSED).filter(Exists(planned)):
        with transaction.atomic():
            hold_planned(SYSTEM, rollout)
    shared = Rollout.objects.filter(status__in=list(ACTIVE_ROLLOUT_STATUSES)).only(
        "pk", "paused_partners"
    )
    for rollout in shared:
        for partner_id in rollout.paused_partners or []:
            if UpdateTask.objects.filter(
                rollout=rollout, partner_id=partner_id, status=Status.PLANNED
            ).exists():
                with transaction.atomic():
                    hold_planned(SYSTEM, rollout, partner_id=partner_id)


def release_due_waves(*, now: datetime | None = None) -> int:
    """One housekeeping turn; returns the number of tasks released."""
    now = now or utcnow()
    _mark_running()
    _rehold_paused()
    _settle_quiet_waves(now)
    released = 0
    for wave_id in _due_waves(now):
        try:
            released += len(release_wave(wave_id, now=now))
        except Invalid as error:
            # No occurrence now (no window, a platform maintenance, R8): next turn.
            log.info("wave %s not released yet: %s", wave_id, error.message)
    return released
