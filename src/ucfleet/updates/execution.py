"""Execution transitions of update tasks (R11–R14): the only writers the worker uses.

Every transition is a compare-and-set on the task's status (and, once claimed, on the worker
that holds it), written together with the change log and the outbox in one transaction.
`docs/worker.md` describes the protocol; this module is its implementation on the domain side
and knows nothing of worker processes, threads or drivers.

The claim is the one place where a read decides a write (the caps, R11): it runs under a lock
that serializes claimers. On SQLite the IMMEDIATE transaction (settings: `transaction_mode`)
takes the database's write lock at BEGIN; on PostgreSQL a transaction-scoped advisory lock
does the same for claimers only. Completions, failures and recoveries only ever lower the
number of running tasks, so they need no lock.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat

from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import CHUNK, bulk_compare_and_set, compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import get_window, next_task_window, running_maintenance
from ucfleet.notifications import services as notify
from ucfleet.tenants.models import ScaleUnit, Tenant
from ucfleet.updates.choices import AttemptOutcome, Status, Timing
from ucfleet.updates.models import TaskAttempt, UpdateTask

log = logging.getLogger(__name__)

START_WINDOW_MISSED = "start window missed"
WORKER_LOST = "interrupted: worker lost"
# Arbitrary but fixed: the key of the PostgreSQL advisory lock that serializes claims.
CLAIM_LOCK_KEY = 0x75C_F1EE7
MAX_REASON = 500


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


# Claim's fields (after the attempt) as the candidate query reads them, in order.
_CLAIM_COLUMNS = (
    "id",
    "partner_id",
    "task_type",
    "redeploy",
    "is_forced",
    "from_version__name",
    "target_version__name",
    "tenant_id",
    "tenant__name",
    "tenant__domain",
    "tenant__instance_id",
    "tenant__language",
    "tenant__partner__name",
    "tenant__scale_unit_id",
    "tenant__scale_unit__name",
    "wait_for_idle",
)
_UNIT = _CLAIM_COLUMNS.index("tenant__scale_unit_id")


@dataclass
class MissedWindows:
    moved: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _change(task: Mapping[str, Any], action: str, fld: str, old: object, new: object) -> Change:
    """A change-log entry about a task given as a row with `pk` and `partner_id`."""
    return Change(action, "update_task", task["pk"], fld, old, new, partner_id=task["partner_id"])


# --- due (R11) ---------------------------------------------------------------------------------


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


def _candidates(at: datetime, *, full_units: set[int], tried: set[int], limit: int) -> list:
    rows = due_tasks(at).exclude(tenant__scale_unit_id__in=full_units).exclude(pk__in=tried)
    if connection.features.has_select_for_update_skip_locked:
        # A speed-up only: rows the portal is changing right now are skipped instead of
        # waited for. Correctness rests on the compare-and-set below.
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows.values_list(*_CLAIM_COLUMNS)[:limit])


def _choose_within_caps(room: int) -> tuple[datetime, list[tuple]]:
    """The claim's instant, and the due tasks in execution order (rows of _CLAIM_COLUMNS), as
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
    chosen: list[tuple] = []
    tried: set[int] = set()
    while room > 0:
        # A few extra rows, so that tasks skipped for a unit filled meanwhile rarely cost
        # another query.
        wanted = room * 2
        batch = _candidates(at, full_units=full, tried=tried, limit=wanted)
        for row in batch:
            tried.add(row[0])
            unit = row[_UNIT]
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
        ids = [row[0] for row in chosen]
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
            chosen = [row for row in chosen if row[0] in ours]
        attempts = TaskAttempt.objects.bulk_create(
            TaskAttempt(task_id=row[0], worker_name=worker_name, started=at) for row in chosen
        )
        attempt_ids = [a.pk for a in attempts]
        if None in attempt_ids:  # a backend that cannot return ids from a bulk insert
            by_task = dict(
                TaskAttempt.objects.filter(
                    task_id__in=[row[0] for row in chosen], outcome=AttemptOutcome.RUNNING
                ).values_list("task_id", "pk")
            )
            attempt_ids = [by_task[row[0]] for row in chosen]
        record_many(
            None,
            [
                Change(
                    "start",
                    "update_task",
                    row[0],
                    "status",
                    Status.PLANNED,
                    Status.IN_PROGRESS,
                    partner_id=row[1],
                )
                for row in chosen
            ],
        )
    return [
        Claim(row[0], attempt_id, *row[1:])
        for row, attempt_id in zip(chosen, attempt_ids, strict=True)
    ]


# --- the end of an attempt ---------------------------------------------------------------------


def _close_attempt(attempt_id: int, *, outcome: str, text: str, at: datetime) -> None:
    TaskAttempt.objects.filter(pk=attempt_id, outcome=AttemptOutcome.RUNNING).update(
        outcome=outcome, finished=at, log=text
    )


def _close_attempts(logs: list[tuple[int, str]], *, outcome: str, at: datetime) -> None:
    """Close many attempts, each with its own log: one executemany (the ORM's bulk_update
    builds a CASE per row and cost more than the rest of a completion)."""
    if not logs:
        return
    table = connection.ops.quote_name(TaskAttempt._meta.db_table)
    finished = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET outcome = %s, finished = %s, log = %s WHERE id = %s",
            [(outcome, finished, text, pk) for pk, text in logs],
        )


def _note_lost_hold(attempt_id: int, text: str) -> None:
    """The task was taken from this worker (declared lost) while it ran: keep its log for
    the record, but change nothing else."""
    note = "\nresult discarded: the task was no longer held by this worker"
    TaskAttempt.objects.filter(pk=attempt_id).update(log=text + note)
    log.warning("attempt %s finished after its task was taken from the worker", attempt_id)


@dataclass(frozen=True)
class Finished:
    """A task whose driver ran every step successfully."""

    task_id: int
    attempt_id: int
    log_text: str


def complete_tasks(*, worker_name: str, finished: Sequence[Finished]) -> list[int]:
    """In progress → executed; each tenant now runs its task's target version (R11).

    One transaction for the batch. Returns the ids completed; a task no longer held by
    `worker_name` (declared lost meanwhile) is left as it is and its log notes why.
    """
    if not finished:
        return []
    with transaction.atomic():
        at = utcnow()
        ids = [f.task_id for f in finished]
        UpdateTask.objects.filter(
            pk__in=ids, status=Status.IN_PROGRESS, claimed_by=worker_name
        ).update(status=Status.EXECUTED, finished=at)
        rows = list(
            UpdateTask.objects.filter(pk__in=ids, claimed_by=worker_name, finished=at)
            .filter(status=Status.EXECUTED)
            .values_list(
                "pk",
                "tenant_id",
                "partner_id",
                "target_version_id",
                "target_version__name",
                "tenant__version__name",
            )
        )
        held = {row[0] for row in rows}
        by_target: dict[int, list[int]] = defaultdict(list)
        changes: list[Change] = []
        for pk, tenant_id, partner_id, target_id, target_name, current_name in rows:
            by_target[target_id].append(tenant_id)
            changes.append(
                Change(
                    "complete",
                    "update_task",
                    pk,
                    "status",
                    Status.IN_PROGRESS,
                    Status.EXECUTED,
                    partner_id=partner_id,
                )
            )
            changes.append(
                Change(
                    "update",
                    "tenant",
                    tenant_id,
                    "version",
                    current_name,
                    target_name,
                    partner_id=partner_id,
                )
            )
        for target_id, tenant_ids in by_target.items():
            Tenant.objects.filter(pk__in=tenant_ids).update(version_id=target_id, updated=at)
        _close_attempts(
            [(f.attempt_id, f.log_text) for f in finished if f.task_id in held],
            outcome=AttemptOutcome.SUCCEEDED,
            at=at,
        )
        for f in finished:
            if f.task_id not in held:
                _note_lost_hold(f.attempt_id, f.log_text)
        record_many(None, changes)
    return [f.task_id for f in finished if f.task_id in held]


def complete_task(*, task_id: int, attempt_id: int, worker_name: str, log_text: str) -> bool:
    """One task: see `complete_tasks`. False when the task is no longer held."""
    done = complete_tasks(
        worker_name=worker_name, finished=[Finished(task_id, attempt_id, log_text)]
    )
    return bool(done)


def fail_task(
    *, task_id: int, attempt_id: int, worker_name: str, reason: str, log_text: str
) -> bool:
    """In progress → failed with `reason`; the partner is told (R11, R16)."""
    with transaction.atomic():
        at = utcnow()
        reason = reason[:MAX_REASON]
        if not compare_and_set(
            UpdateTask,
            task_id,
            expected={"status": Status.IN_PROGRESS, "claimed_by": worker_name},
            changes={"status": Status.FAILED, "finished": at, "failure_reason": reason},
        ):
            _note_lost_hold(attempt_id, log_text)
            return False
        _close_attempt(attempt_id, outcome=AttemptOutcome.FAILED, text=log_text, at=at)
        partner_id = UpdateTask.objects.values_list("partner_id", flat=True).get(pk=task_id)
        record_many(
            None,
            [
                _change(
                    {"pk": task_id, "partner_id": partner_id},
                    "fail",
                    "status",
                    Status.IN_PROGRESS,
                    f"{Status.FAILED}: {reason}",
                )
            ],
        )
        notify.notify_task_failed(task_id)
    return True


def hand_back_task(*, task_id: int, attempt_id: int, worker_name: str, log_text: str) -> bool:
    """In progress → planned again: a stopping worker returns a task it had not yet begun
    to change (no update step started), so another worker can take it."""
    with transaction.atomic():
        at = utcnow()
        if not compare_and_set(
            UpdateTask,
            task_id,
            expected={"status": Status.IN_PROGRESS, "claimed_by": worker_name},
            changes={"status": Status.PLANNED, "claimed_by": "", "started": None},
        ):
            _note_lost_hold(attempt_id, log_text)
            return False
        _close_attempt(attempt_id, outcome=AttemptOutcome.INTERRUPTED, text=log_text, at=at)
        partner_id = UpdateTask.objects.values_list("partner_id", flat=True).get(pk=task_id)
        record_many(
            None,
            [
                _change(
                    {"pk": task_id, "partner_id": partner_id},
                    "hand_back",
                    "status",
                    Status.IN_PROGRESS,
                    Status.PLANNED,
                )
            ],
        )
    return True


def save_attempt_log(*, attempt_id: int, log_text: str) -> None:
    """The steps so far, visible while the attempt runs."""
    TaskAttempt.objects.filter(pk=attempt_id, outcome=AttemptOutcome.RUNNING).update(log=log_text)


# --- lost workers (R14) ------------------------------------------------------------------------


def fail_interrupted_tasks(*, alive_workers: QuerySet | list[str], note: str) -> list[int]:
    """In-progress tasks whose holder is not among `alive_workers` (names: a list or a
    subquery) become failed "interrupted: worker lost"; their open attempts are closed with
    `note`. Returns the ids this call failed.

    Bulk: one compare-and-set per lost holder, one update of the attempts, one digest per
    partner administrator (the queries do not grow with the number of tasks)."""
    orphans = UpdateTask.objects.filter(status=Status.IN_PROGRESS).exclude(
        claimed_by__in=alive_workers
    )
    if not orphans.exists():  # the common case, answered without a write transaction
        return []
    with transaction.atomic():
        rows = list(orphans.order_by("id").values("pk", "partner_id", "claimed_by"))
        at = utcnow()
        by_holder: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_holder[row["claimed_by"]].append(row["pk"])
        done: set[int] = set()
        for holder, pks in by_holder.items():
            done.update(
                bulk_compare_and_set(
                    UpdateTask,
                    pks,
                    expected={"status": Status.IN_PROGRESS, "claimed_by": holder},
                    changes={
                        "status": Status.FAILED,
                        "finished": at,
                        "failure_reason": WORKER_LOST,
                    },
                )
            )
        failed = [row["pk"] for row in rows if row["pk"] in done]
        if not failed:
            return []
        _interrupt_attempts(failed, note=note, at=at)
        record_many(
            None,
            [
                _change(row, "fail", "status", Status.IN_PROGRESS, f"failed: {WORKER_LOST}")
                for row in rows
                if row["pk"] in done
            ],
        )
        notify.notify_tasks_failed(failed)
    return failed


def _interrupt_attempts(task_ids: list[int], *, note: str, at: datetime) -> None:
    """Close the running attempts of `task_ids` as interrupted, `note` appended to each log."""
    appended = Case(
        When(log="", then=Value(note)),
        default=Concat(F("log"), Value("\n" + note), output_field=TextField()),
        output_field=TextField(),
    )
    for offset in range(0, len(task_ids), CHUNK):
        TaskAttempt.objects.filter(
            task_id__in=task_ids[offset : offset + CHUNK], outcome=AttemptOutcome.RUNNING
        ).update(log=appended, outcome=AttemptOutcome.INTERRUPTED, finished=at)


# --- missed start windows (R12) ------------------------------------------------------------------

# Tasks one sweep handles. A sweep is one event: its failures reach each partner
# administrator as one digest, so the bound is generous; it only caps the memory and the
# length of the write transaction when a platform-wide request misses its window at once.
MISSED_BATCH = 20_000


def handle_missed_windows(
    *, at: datetime | None = None, batch: int = MISSED_BATCH
) -> MissedWindows:
    """Planned tasks whose latest start has passed: a maintenance-window task moves to the next
    window occurrence (its recipients are told the new date); any other fails with
    "start window missed" (the partner is told).

    Bulk: one compare-and-set for all failures and one per old window of the moved tasks,
    the change log in one go and the e-mails once per sweep (a digest per partner
    administrator), so the queries do not grow with the number of tasks."""
    at = at or utcnow()
    result = MissedWindows()
    missed = list(
        UpdateTask.objects.filter(status=Status.PLANNED, latest_start__lt=at)
        .order_by("latest_start", "id")
        .values(
            "pk",
            "partner_id",
            "timing",
            "earliest_start",
            "latest_start",
            "notify_partner",
            "waiting_reason",
        )[:batch]
    )
    if not missed:
        return result
    with transaction.atomic():
        occurrence = None
        if any(t["timing"] == Timing.MAINTENANCE_WINDOW for t in missed):
            occurrence = next_task_window(at)
        by_old_window: dict[tuple[datetime, datetime | None], list[int]] = defaultdict(list)
        # R25: a task that waited for a busy tenant fails with its waiting reason.
        failing: dict[str, list[int]] = defaultdict(list)
        for task in missed:
            if task["timing"] == Timing.MAINTENANCE_WINDOW and occurrence is not None:
                by_old_window[(task["earliest_start"], task["latest_start"])].append(task["pk"])
            else:
                failing[task["waiting_reason"] or START_WINDOW_MISSED].append(task["pk"])

        moved: set[int] = set()
        if occurrence is not None:
            expected_task = timedelta(minutes=get_window().expected_task_minutes)
            new_window = {
                "earliest_start": occurrence.start,
                "latest_start": occurrence.latest_start(expected_task),
                # A busy tenant's task starts afresh in the next window (R25).
                "waiting_reason": "",
                "next_check": None,
                "busy_since": None,
            }
            for (earliest, latest), pks in by_old_window.items():
                moved.update(
                    bulk_compare_and_set(
                        UpdateTask,
                        pks,
                        expected={
                            "status": Status.PLANNED,
                            "earliest_start": earliest,
                            "latest_start": latest,
                        },
                        changes=new_window,
                    )
                )
        # Still planned and still past its latest start: a task the portal moved or deleted
        # meanwhile is left as it now is.
        failed: set[int] = set()
        for reason, pks in failing.items():
            failed.update(
                bulk_compare_and_set(
                    UpdateTask,
                    pks,
                    expected={"status": Status.PLANNED, "latest_start__lt": at},
                    changes={"status": Status.FAILED, "finished": at, "failure_reason": reason},
                )
            )

        new_start = occurrence.start.isoformat() if occurrence is not None else None
        moved_from: dict[bool, dict[int, datetime]] = defaultdict(dict)
        changes: list[Change] = []
        for task in missed:
            if task["pk"] in moved:
                result.moved.append(task["pk"])
                moved_from[task["notify_partner"]][task["pk"]] = task["earliest_start"]
                changes.append(
                    _change(
                        task,
                        "reschedule",
                        "earliest_start",
                        task["earliest_start"].isoformat(),
                        new_start,
                    )
                )
            elif task["pk"] in failed:
                result.failed.append(task["pk"])
                reason = task["waiting_reason"] or START_WINDOW_MISSED
                changes.append(_change(task, "fail", "status", Status.PLANNED, f"failed: {reason}"))
        record_many(None, changes)
        for notify_partner, old_starts in moved_from.items():
            notify.notify_tasks_rescheduled(old_starts, notify_partner=notify_partner)
        if result.failed:
            notify.notify_tasks_failed(result.failed)
    return result


def has_open_work() -> bool:
    """Whether any task is in progress anywhere (a burst worker waits for these: a lost
    worker's tasks must be recovered before the queue counts as drained)."""
    return UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists()
