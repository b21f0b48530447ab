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
from ucfleet.core import batchsql
from ucfleet.core.rows import check_sources
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.execution import sql
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.versions.models import SoftwareVersion
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


# The candidate query's columns, in Claim's field order (all but the attempt, which the
# claim creates). Raw SQL (docs/worker.md, "Claim"): building this join through the ORM cost
# more than running it.
_CLAIM_COLUMNS = {
    "task_id": "u.id",
    "partner_id": "u.partner_id",
    "task_type": "u.task_type",
    "redeploy": "u.redeploy",
    "is_forced": "u.is_forced",
    "from_version": "fv.name",
    "target_version": "tv.name",
    "tenant_id": "u.tenant_id",
    "tenant_name": "t.name",
    "tenant_domain": "t.domain",
    "instance_id": "t.instance_id",
    "tenant_language": "t.language",
    "partner_name": "p.name",
    "scale_unit_id": "t.scale_unit_id",
    "scale_unit_name": "su.name",
    "wait_for_idle": "u.wait_for_idle",
}
check_sources(Claim, _CLAIM_COLUMNS, besides=("attempt_id",))
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
    """Due tasks in execution order (`due_tasks`, the `task_due` index) with what a driver
    needs, leaving out full units and rows already looked at."""
    q, stamp = sql.quote, sql.stamp(at)
    where = [
        "u.status = %s",
        "u.earliest_start <= %s",
        "(u.latest_start IS NULL OR u.latest_start >= %s)",
        # R25: a task waiting for a busy tenant is due again at its next check.
        "(u.next_check IS NULL OR u.next_check <= %s)",
    ]
    params: list[Any] = [Status.PLANNED.value, stamp, stamp, stamp]
    if full_units:
        condition, values = batchsql.id_not_in("t.scale_unit_id", sorted(full_units))
        where.append(f"(t.scale_unit_id IS NULL OR {condition})")
        params += values
    if tried:
        condition, values = batchsql.id_not_in("u.id", sorted(tried))
        where.append(condition)
        params += values
    query = (
        f"SELECT {', '.join(_CLAIM_COLUMNS.values())} "
        f"FROM {q(UpdateTask)} u JOIN {q(Tenant)} t ON t.id = u.tenant_id "
        f"JOIN {q(Partner)} p ON p.id = t.partner_id "
        f"JOIN {q(SoftwareVersion)} fv ON fv.id = u.from_version_id "
        f"JOIN {q(SoftwareVersion)} tv ON tv.id = u.target_version_id "
        f"LEFT JOIN {q(ScaleUnit)} su ON su.id = t.scale_unit_id "
        f"WHERE {' AND '.join(where)} ORDER BY u.earliest_start, u.created, u.id LIMIT %s"
    )
    if connection.features.has_select_for_update_skip_locked:
        # A speed-up only: rows the portal is changing right now are skipped instead of
        # waited for. Correctness rests on the compare-and-set below.
        query += " FOR UPDATE OF u SKIP LOCKED"
    names = list(_CLAIM_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, limit])
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _claim_state(at: datetime) -> tuple[bool, Counter[int | None], dict[int, int]]:
    """Under the claim lock, in one statement: whether a platform maintenance runs (R8), the
    tasks in progress per scale unit (None: no unit), and each unit's cap."""
    q, stamp = sql.quote, sql.stamp(at)
    end = connection.ops.quote_name("end")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 'm', NULL, COUNT(*) FROM {q(PlatformMaintenance)} m "
            f"WHERE m.start <= %s AND m.{end} > %s "
            f"UNION ALL SELECT 'r', t.scale_unit_id, COUNT(*) FROM {q(UpdateTask)} u "
            f"JOIN {q(Tenant)} t ON t.id = u.tenant_id WHERE u.status = %s "
            "GROUP BY t.scale_unit_id "
            f"UNION ALL SELECT 'c', id, max_concurrent_tasks FROM {q(ScaleUnit)}",
            [stamp, stamp, Status.IN_PROGRESS.value],
        )
        rows = cursor.fetchall()
    per_unit: Counter[int | None] = Counter()
    caps: dict[int, int] = {}
    maintenance = False
    for kind, unit, value in rows:
        if kind == "m":
            maintenance = value > 0
        elif kind == "r":
            per_unit[unit] += value
        else:
            caps[unit] = value
    return maintenance, per_unit, caps


def _choose_within_caps(
    room: int, per_unit: Counter[int | None], caps: dict[int, int]
) -> tuple[datetime, list[Candidate]]:
    """The claim's instant, and the due tasks in execution order (candidates), as
    many as the global and scale-unit caps allow. A full unit does not hold up tasks of
    other units."""
    room = min(room, settings.UCFLEET["MAX_CONCURRENT_TASKS"] - sum(per_unit.values()))
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


def _is_anything_due(at: datetime) -> bool:
    stamp = sql.stamp(at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {sql.quote(UpdateTask)} u WHERE u.status = %s "
            "AND u.earliest_start <= %s AND (u.latest_start IS NULL OR u.latest_start >= %s) "
            "AND (u.next_check IS NULL OR u.next_check <= %s) LIMIT 1",
            [Status.PLANNED.value, stamp, stamp, stamp],
        )
        return cursor.fetchone() is not None


def _take(chosen: list[Candidate], *, worker_name: str, at: datetime) -> list[Candidate]:
    """Compare-and-set planned → in progress for the batch; the rows this claimer got (a
    task the portal changed meanwhile is not taken)."""
    ids = [row["task_id"] for row in chosen]
    stamp = sql.stamp(at)
    among, id_params = batchsql.id_in("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.quote(UpdateTask)} SET status = %s, claimed_by = %s, started = %s, "
            # R25: a waiting task that is taken again is no longer waiting
            "waiting_reason = '', next_check = NULL "
            f"WHERE {among} AND status = %s AND earliest_start <= %s "
            "RETURNING id",
            [Status.IN_PROGRESS.value, worker_name, stamp, *id_params, Status.PLANNED.value, stamp],
        )
        ours = {row[0] for row in cursor.fetchall()}
    return [row for row in chosen if row["task_id"] in ours]


def _insert_attempts(task_ids: list[int], *, worker_name: str, at: datetime) -> dict[int, int]:
    """One running attempt per task: attempt id by task id."""
    rows = batchsql.insert_rows(
        TaskAttempt,
        ["task_id"],
        [(t,) for t in task_ids],
        constants={
            "worker_name": worker_name,
            "started": sql.stamp(at),
            "outcome": AttemptOutcome.RUNNING.value,
            "log": "",
        },
        returning=("task_id", "id"),
    )
    return dict(rows)


def claim_due_tasks(*, worker_name: str, limit: int) -> list[Claim]:
    """Take up to `limit` due tasks for `worker_name`: planned → in progress (R11, R14).

    Caps hold across processes because counting and claiming happen under the claim lock:
    no other claimer can commit between this transaction's count and its claims.
    """
    if limit <= 0:
        return []
    if not connection.in_atomic_block and not _is_anything_due(utcnow()):
        # Nothing is due: an idle worker need not take the lock (on SQLite: the write lock).
        # (Inside the caller's transaction, e.g. the worker's turn, the lock is cheap.)
        return []
    # No savepoint: within a caller's transaction a failure rolls the whole of it back.
    with transaction.atomic(savepoint=False):
        _take_claim_lock()
        maintenance, per_unit, caps = _claim_state(utcnow())
        if maintenance:  # R8: no task starts during maintenance
            return []
        at, chosen = _choose_within_caps(limit, per_unit, caps)
        if not chosen:
            return []
        chosen = _take(chosen, worker_name=worker_name, at=at)
        if not chosen:
            return []
        attempt_ids = _insert_attempts(
            [row["task_id"] for row in chosen], worker_name=worker_name, at=at
        )
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
    return [Claim(attempt_id=attempt_ids[row["task_id"]], **row) for row in chosen]


def has_open_work() -> bool:
    """Whether any task is in progress anywhere (a burst worker waits for these: a lost
    worker's tasks must be recovered before the queue counts as drained)."""
    return UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists()
