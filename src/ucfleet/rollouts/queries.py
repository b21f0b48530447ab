"""Reads of rollouts, scoped to the acting administrator (R1, R18).

A platform administrator sees every rollout; a partner administrator sees the rollouts with
at least one task of its partner, and of each only the part that concerns its tenants: its
counts, its waves' counts, its tasks (`rollout_counts`, `wave_counts`, `rollout_tasks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.core.errors import NotFound
from ucfleet.core.ids import parse_id
from ucfleet.rollouts.choices import RolloutStatus
from ucfleet.rollouts.models import Rollout, RolloutWave
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

# The counts a rollout shows (API.md): `waiting` are planned tasks waiting for a busy
# tenant (R25), counted there and not under `planned`.
COUNT_KEYS = ("planned", "held", "waiting", "in_progress", "executed", "failed", "cancelled")


def rollouts_visible_to(admin: Actor) -> QuerySet[Rollout]:
    rollouts = Rollout.objects.all()
    if admin.is_platform_admin:
        return rollouts
    own = UpdateTask.objects.filter(rollout=OuterRef("pk"), partner_id=partner_scope(admin))
    return rollouts.filter(Exists(own))


def get_rollout_for(admin: Actor, pk: Any) -> Rollout:
    number = parse_id(pk)
    if number is None:
        raise NotFound(_("No such rollout."))
    try:
        return (
            rollouts_visible_to(admin).select_related("target_version", "created_by").get(pk=number)
        )
    except Rollout.DoesNotExist:
        raise NotFound(_("No such rollout.")) from None


def filter_rollouts(
    admin: Actor,
    rollouts: QuerySet[Rollout],
    *,
    status: str | None = None,
    partner_id: int | None = None,
    target_version_id: int | None = None,
) -> QuerySet[Rollout]:
    """The list's filters; a partner outside the caller's scope is the caller's to check."""
    if status:
        rollouts = rollouts.filter(status=status)
    if partner_id is not None:
        rollouts = rollouts.filter(
            Exists(UpdateTask.objects.filter(rollout=OuterRef("pk"), partner_id=partner_id))
        )
    if target_version_id is not None:
        rollouts = rollouts.filter(target_version_id=target_version_id)
    return rollouts.order_by("-created", "-id")


def rollout_tasks(admin: Actor, rollout: Rollout) -> QuerySet[UpdateTask]:
    """The rollout's tasks the caller sees (archived failures included: they are its record)."""
    tasks = UpdateTask.objects.filter(rollout=rollout)
    if admin.is_platform_admin:
        return tasks
    return tasks.filter(partner_id=partner_scope(admin))


def concerns_other_partners(admin: Actor, rollout: Rollout) -> bool:
    """Whether the rollout has tasks the (partner) administrator does not see."""
    if admin.is_platform_admin:
        return False
    return (
        UpdateTask.objects.filter(rollout=rollout).exclude(partner_id=partner_scope(admin)).exists()
    )


def _empty() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


@dataclass
class RolloutCounts:
    total: dict[str, int] = field(default_factory=_empty)
    per_wave: dict[int, dict[str, int]] = field(default_factory=dict)

    def wave(self, index: int) -> dict[str, int]:
        return self.per_wave.get(index) or _empty()


def rollout_counts(admin: Actor, rollout: Rollout) -> RolloutCounts:
    """Tasks per status, in all and per wave, of the part the caller sees: two grouped
    queries on the (rollout, wave, status) index."""
    tasks = rollout_tasks(admin, rollout).order_by()
    counts = RolloutCounts()
    for wave, status, n in tasks.values_list("wave", "status").annotate(n=Count("id")):
        key = status if status in COUNT_KEYS else None
        if key is None:
            continue
        per = counts.per_wave.setdefault(wave or 1, _empty())
        per[key] += n
        counts.total[key] += n
    waiting = (
        tasks.filter(status=Status.PLANNED)
        .exclude(waiting_reason="")
        .values_list("wave")
        .annotate(n=Count("id"))
    )
    for wave, n in waiting:
        per = counts.per_wave.setdefault(wave or 1, _empty())
        per["planned"] -= n
        per["waiting"] += n
        counts.total["planned"] -= n
        counts.total["waiting"] += n
    return counts


def status_for(admin: Actor, rollout: Rollout) -> str:
    """The rollout's status as the caller sees it: a partner that paused its part of a
    larger rollout sees it paused."""
    if (
        not admin.is_platform_admin
        and rollout.status in (RolloutStatus.SCHEDULED, RolloutStatus.RUNNING)
        and partner_scope(admin) in (rollout.paused_partners or [])
    ):
        return RolloutStatus.PAUSED
    return rollout.status


def paused_reason_for(admin: Actor, rollout: Rollout) -> str:
    """Why it paused. The reason's first line is the summary; the lines after it name the
    failed tenants, which a partner administrator reads only if every task is its own."""
    reason = rollout.paused_reason or ""
    if admin.is_platform_admin or "\n" not in reason:
        return reason
    if concerns_other_partners(admin, rollout):
        return reason.split("\n", 1)[0]
    return reason


def waves_of(rollout: Rollout) -> list[RolloutWave]:
    return list(rollout.waves.order_by("index"))


def status_totals(admin: Actor) -> dict[str, int]:
    """Rollouts per status (the /metrics collector passes the platform's SYSTEM actor)."""
    rows = rollouts_visible_to(admin).order_by().values_list("status").annotate(n=Count("id"))
    totals = dict.fromkeys(RolloutStatus.values, 0)
    totals.update(dict(rows))
    return totals
