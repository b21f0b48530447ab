"""What the execution code calls, in the transaction of the transition (docs/rollouts.md).

`tasks_ended(task_ids)`: tasks were executed, failed or cancelled. Their rollouts are
locked (one transaction at a time settles a rollout, so two workers ending its last tasks
cannot both miss that the wave ended, nor both stay under the error budget), then each:
the error budget is checked (R21, automatic pause), waves without open tasks end (R20),
a rollout without open tasks completes. Tasks of no rollout cost one query.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from ucfleet.core.chunks import chunks
from ucfleet.core.timeutils import now as utcnow
from ucfleet.rollouts.choices import FINAL_ROLLOUT_STATUSES
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.transitions import settle
from ucfleet.updates.models import UpdateTask


def tasks_ended(task_ids: Iterable[int]) -> None:
    ids = sorted({int(pk) for pk in task_ids})
    if not ids:
        return
    rollout_ids: set[int] = set()
    for chunk in chunks(ids):
        rollout_ids.update(
            UpdateTask.objects.filter(pk__in=chunk, rollout__isnull=False)
            .order_by()
            .values_list("rollout_id", flat=True)
            .distinct()
        )
    if not rollout_ids:
        return
    with transaction.atomic():
        at = utcnow()
        rollouts = (
            Rollout.objects.select_for_update()
            .filter(pk__in=rollout_ids)
            .exclude(status__in=FINAL_ROLLOUT_STATUSES)
            .select_related("target_version")
            .order_by("pk")
        )
        for rollout in rollouts:
            settle(rollout, at=at)
