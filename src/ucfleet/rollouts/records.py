"""A rollout as plain data, as the caller sees it (R18): what the CLI prints and the portal
shows. The API's serializer answers the same fields (API.md "Rollouts")."""

from __future__ import annotations

from typing import Any

from ucfleet.accounts.actors import Actor
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.queries import (
    COUNT_KEYS,
    paused_reason_for,
    rollout_counts,
    status_for,
    waves_of,
)
from ucfleet.webhooks.emission import utc_text


def rollout_summary(admin: Actor, rollout: Rollout) -> dict[str, Any]:
    return {
        "id": rollout.pk,
        "name": rollout.name,
        "status": status_for(admin, rollout),
        "paused_reason": paused_reason_for(admin, rollout),
        "created_by": rollout.created_by.username if rollout.created_by else None,
        "created": utc_text(rollout.created),
        "target_version": rollout.target_version.name,
        "timing": rollout.timing,
        "task_type": rollout.task_type,
        "forced": rollout.forced,
        "redeploy": rollout.redeploy,
        "notify_partner": rollout.notify_partner,
        "notify_customer": rollout.notify_customer,
        "wait_for_idle": rollout.wait_for_idle,
        "soak_minutes": rollout.soak_minutes,
        "error_budget": rollout.error_budget,
    }


def rollout_record(admin: Actor, rollout: Rollout) -> dict[str, Any]:
    """The summary with the caller's counts and the waves (their sizes: the caller's part)."""
    counts = rollout_counts(admin, rollout)
    waves = []
    for wave in waves_of(rollout):
        per = counts.wave(wave.index)
        waves.append(
            {
                "index": wave.index,
                "size": wave.size if admin.is_platform_admin else sum(per[k] for k in COUNT_KEYS),
                "status": wave.status,
                "released_at": utc_text(wave.released_at),
                "ended_at": utc_text(wave.ended_at),
                "counts": per,
            }
        )
    return {**rollout_summary(admin, rollout), "counts": dict(counts.total), "waves": waves}
