"""Failure digests: one e-mail per partner administrator per request (= rollout) and hour,
listing the tenants that failed in that hour and why (§9, R16), instead of one e-mail per
failed task.

1. `record_failures` (called where a task fails, in that transaction) writes one
   `PendingFailure` per failed task: unique per task, so an event reported twice is one row,
   and a rollback leaves none.
2. `compose_due` (the worker's housekeeping, before sending) takes each (partner, request,
   period) whose period has closed — plus a grace for transactions that committed late —
   and, in one transaction: claims its rows by compare-and-set (`claim_token` from '' to
   ours) and queues the digests (one outbox row per partner administrator, keyed by the
   request, the period and the first claimed row); told rows keep the token, so a late
   second report of the same failure is still one failure. A composer that dies rolls all
   of it back; two composers never claim the same row (SQLite serialises
   writers; PostgreSQL re-checks `claim_token = ''` on a row another transaction changed).
   So each failure is in exactly one digest; the outbox then delivers it as decision 0005
   says. docs/decisions/0008-failure-digests.md has the reasons.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from ucfleet.core.chunks import chunks
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import server_zone
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.digests import partner_mails
from ucfleet.notifications.facts import facts_of
from ucfleet.notifications.models import PendingFailure
from ucfleet.notifications.outbox import enqueue
from ucfleet.updates.choices import Status as TaskStatus
from ucfleet.updates.models import UpdateTask

log = logging.getLogger("ucfleet.notifications")

GROUPS_PER_TURN = 200
PURGE_TOLD_AFTER_DAYS = 30


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, "UCFLEET", {}).get(name, default))


def digest_period() -> timedelta:
    """How long a digest collects failures: an hour by default."""
    return timedelta(seconds=max(1.0, _setting("FAILURE_DIGEST_SECONDS", 3600)))


def digest_grace() -> timedelta:
    """How long after its period a digest waits for failures that committed late."""
    return timedelta(seconds=max(0.0, _setting("FAILURE_DIGEST_GRACE_SECONDS", 60)))


def period_of(at: datetime) -> datetime:
    """The start of the period `at` falls in: whole periods since the epoch (clock hours for
    the default hour)."""
    length = int(digest_period().total_seconds())
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % length, tz=UTC)


def record_failures(task_ids: Iterable[int]) -> int:
    """The failed ones of these tasks wait for their digest; returns how many were new.

    A failure is (task, the time it failed): reported twice — even after its digest was
    composed — it is one row, told once."""
    moment = utcnow()
    period = period_of(moment)
    rows = []
    for chunk in chunks(sorted({int(pk) for pk in task_ids})):
        rows += [
            PendingFailure(
                task_id=pk,
                partner_id=partner_id,
                request_id=request_id,
                period=period,
                reason=reason,
                finished=finished,
                failed_at=finished or start,
            )
            for pk, partner_id, request_id, reason, finished, start in UpdateTask.objects.filter(
                pk__in=chunk, status=TaskStatus.FAILED
            ).values_list(
                "pk", "partner_id", "request_id", "failure_reason", "finished", "earliest_start"
            )
        ]
    if not rows:
        return 0
    known: set[tuple[int, datetime]] = set()
    for piece in chunks(rows):
        known.update(
            PendingFailure.objects.filter(task_id__in=[r.task_id for r in piece]).values_list(
                "task_id", "failed_at"
            )
        )
    fresh = [r for r in rows if (r.task_id, r.failed_at) not in known]
    with transaction.atomic(savepoint=False):
        # ignore_conflicts: a concurrent report of the same failure (unique constraint).
        PendingFailure.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def compose_due(*, now: datetime | None = None, limit: int = GROUPS_PER_TURN) -> int:
    """Queue the digests of every (partner, request, period) whose period has closed;
    returns how many failures they told. `now` lets tests close a period without waiting."""
    moment = now or utcnow()
    closed_before = moment - digest_grace() - digest_period()
    due = PendingFailure.objects.filter(claim_token="", period__lte=closed_before)
    groups = list(
        due.order_by("period", "partner_id", "request_id")
        .values_list("partner_id", "request_id", "period")
        .distinct()[:limit]
    )
    told = 0
    for partner_id, request_id, period in groups:
        try:
            told += _compose(partner_id, request_id, period)
        except Exception:
            log.exception("composing a failure digest failed; trying again next turn")
    return told


def _compose(partner_id: int, request_id: uuid.UUID, period: datetime) -> int:
    token = uuid.uuid4().hex
    with transaction.atomic():
        claimed = PendingFailure.objects.filter(
            claim_token="", partner_id=partner_id, request_id=request_id, period=period
        ).update(claim_token=token)
        if not claimed:
            return 0  # another composer took them
        mine = PendingFailure.objects.filter(claim_token=token)
        pending = {
            task_id: (pk, reason, finished)
            for pk, task_id, reason, finished in mine.values_list(
                "pk", "task_id", "reason", "finished"
            )
        }
        # What the digest says is the failure as it was (a retried task may run again).
        items = [
            dataclasses.replace(f, failure_reason=pending[f.id][1], finished=pending[f.id][2])
            for f in facts_of(pending)
        ]
        first = min(pk for pk, _, _ in pending.values())
        event = f"{uuid.UUID(str(request_id)).hex}.{period:%Y%m%d%H%M}.f{first}"
        enqueue(partner_mails(Kind.FAILED_PARTNER, items, tz=server_zone(), event=event))
    return claimed


def purge_told(*, now: datetime | None = None) -> int:
    """Told failures older than PURGE_TOLD_AFTER_DAYS are forgotten."""
    before = (now or utcnow()) - timedelta(days=PURGE_TOLD_AFTER_DAYS)
    deleted, _ = PendingFailure.objects.exclude(claim_token="").filter(period__lt=before).delete()
    return deleted
