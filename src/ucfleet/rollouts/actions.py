"""Which of the steering actions (R22) an administrator may take on a rollout now: the
portal shows a button only where `steering` would accept it. Kept next to `steering`, whose
checks these mirror (forced rollouts, the caller's part, the status as the caller sees it).
"""

from __future__ import annotations

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.rollouts.choices import ACTIVE_ROLLOUT_STATUSES, FINAL_ROLLOUT_STATUSES, RolloutStatus
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.queries import concerns_other_partners, status_for

PAUSE, RESUME, ABORT, RETRY_FAILED = "pause", "resume", "abort", "retry_failed"


def available_actions(admin: Actor, rollout: Rollout, *, failed: int) -> list[str]:
    """The actions `steering` accepts from `admin` now; `failed` is the number of failed
    tasks the caller sees (`rollout_counts(...).total["failed"]`)."""
    if rollout.forced and not admin.is_platform_admin:
        return []
    part = partner_scope(admin) if concerns_other_partners(admin, rollout) else None
    seen = status_for(admin, rollout)
    actions = []
    if seen in ACTIVE_ROLLOUT_STATUSES:
        actions.append(PAUSE)
    if part is None:
        if rollout.status == RolloutStatus.PAUSED:
            actions.append(RESUME)
    elif rollout.status != RolloutStatus.PAUSED and part in (rollout.paused_partners or []):
        actions.append(RESUME)
    if rollout.status not in FINAL_ROLLOUT_STATUSES:
        actions.append(ABORT)
    if failed:
        actions.append(RETRY_FAILED)
    return actions
