"""What a rollout's state change leaves behind: change-log entries (R22) and `rollout.*`
webhooks (R30), each partner told only its own part (R1)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.rollouts.models import Rollout
from ucfleet.updates.models import UpdateTask
from ucfleet.webhooks.emission import emit_rollout_event, utc_text


def partner_ids_of(rollout: Rollout) -> list[int]:
    return sorted(
        UpdateTask.objects.filter(rollout=rollout)
        .order_by()
        .values_list("partner_id", flat=True)
        .distinct()
    )


def log_change(
    actor: Actor,
    rollout: Rollout,
    action: str,
    field: str,
    old: Any,
    new: Any,
    *,
    partner_ids: list[int] | None = None,
) -> None:
    """One entry per partner concerned (each partner's change log shows its rollouts)."""
    ids = partner_ids if partner_ids is not None else partner_ids_of(rollout)
    record_many(
        actor,
        [Change(action, "rollout", rollout.pk, field, old, new, partner_id=p) for p in ids]
        or [Change(action, "rollout", rollout.pk, field, old, new)],
    )


def _data(rollout: Rollout, counts: dict[str, int], *, reason: str) -> dict[str, Any]:
    return {
        "rollout": {
            "id": rollout.pk,
            "name": rollout.name,
            "status": rollout.status,
            "paused_reason": reason,
            "target_version": rollout.target_version.name,
            "created": utc_text(rollout.created),
            "counts": counts,
        }
    }


def emit(event: str, rollout: Rollout) -> int:
    """`event` about `rollout` as it now is: the platform's endpoints get all of it, each
    partner's endpoints its own tenants' counts (and the reason's summary line only, when
    the rollout concerns other partners too)."""
    per_partner: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    rows = (
        UpdateTask.objects.filter(rollout=rollout)
        .order_by()
        .values_list("partner_id", "status")
        .annotate(n=Count("id"))
    )
    for partner_id, status, n in rows:
        per_partner[partner_id][status] += n
        total[status] += n
    reason = rollout.paused_reason or ""
    summary = reason.split("\n", 1)[0]
    shared = len(per_partner) > 1
    return emit_rollout_event(
        event,
        _data(rollout, dict(total), reason=reason),
        partner_data={
            partner_id: _data(rollout, dict(counts), reason=summary if shared else reason)
            for partner_id, counts in per_partner.items()
        },
    )
