"""Claiming due tasks (R11, R14): planned → in progress under the caps.

The claim is the one place where a read decides a write (the caps, R11): it runs under a lock
that serializes claimers. On SQLite the IMMEDIATE transaction (settings: `transaction_mode`)
takes the database's write lock at BEGIN; on PostgreSQL a transaction-scoped advisory lock
does the same for claimers only. Completions, failures and recoveries only ever lower the
number of running tasks, so they need no lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import Change, record_many
from ucfleet.core.rows import check_sources
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import running_maintenance
from ucfleet.tenants.models import ScaleUnit
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.webhooks.emission import emit_task_changes

# Arbitrary but fixed: the key of the PostgreSQL advisory lock that serializes claims.
CLAIM_LOCK_KEY = 0x75C_F1EE7


@dataclass(frozen=True)
class Claim:
    """A task this worker now holds, as plain values: what a driver needs, and its attempt."""

    task_id: int
    attempt_id: int
    partner_id: int
    task_type: str
    redeploy: bool
    is_forced: bool
    from_version: str
    target_version: str
    tenant_id: int
    tenant_name: str
    tenant_domain: str
    instance_id: str
    tenant_language: str
    partner_name: str
    scale_unit_id: int | None
    scale_unit_name: str | None
    wait_for_idle: bool = True


# Where the candidate query reads each of Claim's fields (all but the attempt, which the
# claim creates). A candidate is a dict of these fields by name.
_CLAIM_SOURCES = {
    "task_id": "id",
    "partner_id": "partner_id",
    "task_type": "task_type",
    "redeploy": "redeploy",
    "is_forced": "is_forced",
    "from_version": "from_version__name",
    "target_version": "target_version__name",
    "tenant_id": "tenant_id",
    "tenant_name": "tenant__name",
    "tenant_domain": "tenant__domain",
    "instance_id": "tenant__instance_id",
    "tenant_language": "tenant__language",
    "partner_name": "tenant__partner__name",
    "scale_unit_id": "tenant__scale_unit_id",
    "scale_unit_name": "tenant__scale_unit__name",
    "wait_for_idle": "wait_for_idle",
}
check_sources(Claim, _CLAIM_SOURCES, besides=("attempt_id",))
Candidate = dict[str, Any]


def due_tasks(at: datetime) -> QuerySet[UpdateTask]:
    """Planned tasks whose start period contains `at`, in execution order (R2, R11).

    The caps and platform maintenance are not part of this: they depend on what runs now,
    which only the claim (under its lock) may read.
    """
    return (
        UpdateTask.objects.filter(status=Status.PLANNED, earliest_start__lte=at)
        .filter(Q(latest_start__isnull=True) | Q(latest_start__gte=at))
        # R25: a task waiting for a busy tenant is due again at its next check.
        .filter(Q(next_check__isnull=True) | Q(next_check__lte=at))
        .order_by("earliest_start", "created", "id")
    )


def running_counts() -> tuple[int, Counter[int | None]]:
    """How many tasks are in progress: in total and per scale unit (None: no unit)."""
    per_unit: Counter[int | None] = Counter()
    rows = (
        UpdateTask.objects.filter(status=Status.IN_PROGRESS)
        .values("tenant__scale_unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        per_unit[row["tenant__scale_unit_id"]] += row["n"]
    return sum(per_unit.values()), per_unit


def _take_claim_lock() -> None:
    """Serialize claimers for the rest of the current transaction (see module doc)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])
    # SQLite: BEGIN IMMEDIATE has already taken the database's single write lock.


def _candidates(
    at: datetime, *, full_units: set[int], tried: set[int], limit: int
) -> list[Candidate]:
    rows = due_tasks(at).exclude(tenant__scale_unit_id__in=full_units).exclude(pk__in=tried)
    if connection.features.has_select_for_update_skip_locked:
        # A speed-up only: rows the portal is changing right now are skipped instead of
        # waited for. Correctness rests on the compare-and-set below.
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    names = list(_CLAIM_SOURCES)
    values = rows.values_list(*_CLAIM_SOURCES.values())[:limit]
    return [dict(zip(names, row, strict=True)) for row in values]


def _choose_within_caps(room: int) -> tuple[datetime, list[Candidate]]:
    """The claim's instant, and the due tasks in execution order (candidates), as
    many as the global and scale-unit caps allow. A full unit does not hold up tasks of
    other units."""
    total, per_unit = running_counts()
    room = min(room, settings.UCFLEET["MAX_CONCURRENT_TASKS"] - total)
    caps = dict(ScaleUnit.objects.values_list("id", "max_concurrent_tasks"))
    full = {unit for unit, cap in caps.items() if per_unit[unit] >= cap}
    # Taken after the counts: a claimed task's `started` then lies after the `finished` of
    # every task whose slot it reuses (that completion was committed before the count), so
    # attempts' start and end times are a faithful record of concurrency.
    at = utcnow()
    chosen: list[Candidate] = []
    tried: set[int] = set()
    while room > 0:
        # A few extra rows, so that tasks skipped for a unit filled meanwhile rarely cost
        # another query.
        wanted = room * 2
        batch = _candidates(at, full_units=full, tried=tried, limit=wanted)
        for row in batch:
            tried.add(row["task_id"])
            unit = row["scale_unit_id"]
            if unit in full:
                continue
            chosen.append(row)
            room -= 1
            per_unit[unit] += 1
            if unit is not None and per_unit[unit] >= caps.get(unit, 0):
                full.add(unit)
            if room == 0:
                break
        if len(batch) < wanted:
            break  # nothing more is due
    return at, chosen


def claim_due_tasks(*, worker_name: str, limit: int) -> list[Claim]:
    """Take up to `limit` due tasks for `worker_name`: planned → in progress (R11, R14).

    Caps hold across processes because counting and claiming happen under the claim lock:
    no other claimer can commit between this transaction's count and its claims.
    """
    if limit <= 0 or not due_tasks(utcnow()).exists():
        # Nothing is due: an idle worker need not take the lock (on SQLite: the write lock).
        return []
    with transaction.atomic():
        _take_claim_lock()
        if running_maintenance() is not None:  # R8: no task starts during maintenance
            return []
        at, chosen = _choose_within_caps(limit)
        if not chosen:
            return []
        ids = [row["task_id"] for row in chosen]
        # Compare-and-set for the batch: a task the portal changed meanwhile is not taken.
        changed = UpdateTask.objects.filter(
            pk__in=ids, status=Status.PLANNED, earliest_start__lte=at
        ).update(
            status=Status.IN_PROGRESS,
            claimed_by=worker_name,
            started=at,
            waiting_reason="",  # R25: a waiting task that is taken again is no longer waiting
            next_check=None,
        )
        if changed != len(ids):
            ours = set(
                UpdateTask.objects.filter(
                    pk__in=ids, status=Status.IN_PROGRESS, claimed_by=worker_name, started=at
                ).values_list("pk", flat=True)
            )
            chosen = [row for row in chosen if row["task_id"] in ours]
        attempts = TaskAttempt.objects.bulk_create(
            TaskAttempt(task_id=row["task_id"], worker_name=worker_name, started=at)
            for row in chosen
        )
        attempt_ids = [a.pk for a in attempts]
        if None in attempt_ids:  # a backend that cannot return ids from a bulk insert
            by_task = dict(
                TaskAttempt.objects.filter(
                    task_id__in=[row["task_id"] for row in chosen], outcome=AttemptOutcome.RUNNING
                ).values_list("task_id", "pk")
            )
            attempt_ids = [by_task[row["task_id"]] for row in chosen]
        record_many(
            SYSTEM,
            [
                Change(
                    "start",
                    "update_task",
                    row["task_id"],
                    "status",
                    Status.PLANNED,
                    Status.IN_PROGRESS,
                    partner_id=row["partner_id"],
                )
                for row in chosen
            ],
        )
        emit_task_changes([row["task_id"] for row in chosen], previous=Status.PLANNED)
    return [
        Claim(attempt_id=attempt_id, **row)
        for row, attempt_id in zip(chosen, attempt_ids, strict=True)
    ]


def has_open_work() -> bool:
    """Whether any task is in progress anywhere (a burst worker waits for these: a lost
    worker's tasks must be recovered before the queue counts as drained)."""
    return UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists()
