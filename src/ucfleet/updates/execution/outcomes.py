"""The end of an attempt: completed, failed, or handed back (R11, R14, R16)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import Change, record_many
from ucfleet.core import batchsql
from ucfleet.core.cas import bulk_compare_and_set, compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications import services as notify
from ucfleet.rollouts.hooks import tasks_ended
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.execution import sql
from ucfleet.updates.execution.common import MAX_REASON, task_change
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.versions.models import SoftwareVersion
from ucfleet.webhooks.emission import emit_task_changes

log = logging.getLogger(__name__)


def _close_attempt(attempt_id: int, *, outcome: str, text: str, at: datetime) -> None:
    TaskAttempt.objects.filter(pk=attempt_id, outcome=AttemptOutcome.RUNNING).update(
        outcome=outcome, finished=at, log=text
    )


def _close_attempts(logs: list[tuple[int, str]], *, outcome: str, at: datetime) -> None:
    """Close many attempts, each with its own log: one statement (the ORM's bulk_update
    builds a CASE per row and cost more than the rest of a completion)."""
    if not logs:
        return
    batchsql.update_rows(
        TaskAttempt,
        ["log"],
        logs,
        constants={"outcome": outcome, "finished": sql.stamp(at)},
    )


def _note_lost_hold(attempt_id: int, text: str) -> None:
    """The task was taken from this worker (declared lost) while it ran: keep its log for
    the record, but change nothing else."""
    note = "\nresult discarded: the task was no longer held by this worker"
    TaskAttempt.objects.filter(pk=attempt_id).update(log=text + note)
    log.warning("attempt %s finished after its task was taken from the worker", attempt_id)


def _mark_executed(ids: list[int], *, worker_name: str, at: datetime) -> list[tuple]:
    """Compare-and-set in progress → executed for the tasks still held by `worker_name`;
    for each one changed: (id, tenant, partner, target version id, its name, the tenant's
    version name now). Raw SQL: the completion's hot path (docs/worker.md)."""
    q = sql.quote
    among, id_params = batchsql.id_in("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(UpdateTask)} SET status = %s, finished = %s "
            f"WHERE {among} AND status = %s AND claimed_by = %s RETURNING id",
            [
                Status.EXECUTED.value,
                sql.stamp(at),
                *id_params,
                Status.IN_PROGRESS.value,
                worker_name,
            ],
        )
        done = [row[0] for row in cursor.fetchall()]
        if not done:
            return []
        among, id_params = batchsql.id_in("u.id", done)
        cursor.execute(
            f"SELECT u.id, u.tenant_id, u.partner_id, u.target_version_id, tv.name, cv.name "
            f"FROM {q(UpdateTask)} u JOIN {q(SoftwareVersion)} tv ON tv.id = u.target_version_id "
            f"JOIN {q(Tenant)} t ON t.id = u.tenant_id "
            f"LEFT JOIN {q(SoftwareVersion)} cv ON cv.id = t.version_id "
            f"WHERE {among}",
            id_params,
        )
        return cursor.fetchall()


def _set_versions(tenant_ids: list[int], *, version_id: int, at: datetime) -> None:
    among, id_params = batchsql.id_in("id", tenant_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.quote(Tenant)} SET version_id = %s, updated = %s WHERE {among}",
            [version_id, sql.stamp(at), *id_params],
        )


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
    with transaction.atomic(savepoint=False):  # the caller's transaction fails as a whole
        at = utcnow()
        rows = _mark_executed([f.task_id for f in finished], worker_name=worker_name, at=at)
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
            _set_versions(tenant_ids, version_id=target_id, at=at)
        _close_attempts(
            [(f.attempt_id, f.log_text) for f in finished if f.task_id in held],
            outcome=AttemptOutcome.SUCCEEDED,
            at=at,
        )
        for f in finished:
            if f.task_id not in held:
                _note_lost_hold(f.attempt_id, f.log_text)
        record_many(SYSTEM, changes)
        emit_task_changes(sorted(held), previous=Status.IN_PROGRESS)
        tasks_ended(held)  # rollouts: waves end, error budget (R20, R21)
    return [f.task_id for f in finished if f.task_id in held]


def complete_task(*, task_id: int, attempt_id: int, worker_name: str, log_text: str) -> bool:
    """One task: see `complete_tasks`. False when the task is no longer held."""
    done = complete_tasks(
        worker_name=worker_name, finished=[Finished(task_id, attempt_id, log_text)]
    )
    return bool(done)


@dataclass(frozen=True)
class Failed:
    """A task whose attempt failed, with the reason the task fails with."""

    task_id: int
    attempt_id: int
    reason: str
    log_text: str


def fail_tasks(*, worker_name: str, failed: Sequence[Failed]) -> list[int]:
    """In progress → failed, each with its reason; each task's partner is told (R11, R16).

    One transaction for the batch (one compare-and-set per distinct reason). Returns the ids
    failed; a task no longer held by `worker_name` is left as it is and its log notes why.
    """
    if not failed:
        return []
    with transaction.atomic():
        at = utcnow()
        by_reason: dict[str, list[int]] = defaultdict(list)
        for f in failed:
            by_reason[f.reason[:MAX_REASON]].append(f.task_id)
        held: set[int] = set()
        for reason, ids in by_reason.items():
            held.update(
                bulk_compare_and_set(
                    UpdateTask,
                    ids,
                    expected={"status": Status.IN_PROGRESS, "claimed_by": worker_name},
                    changes={"status": Status.FAILED, "finished": at, "failure_reason": reason},
                )
            )
        _close_attempts(
            [(f.attempt_id, f.log_text) for f in failed if f.task_id in held],
            outcome=AttemptOutcome.FAILED,
            at=at,
        )
        for f in failed:
            if f.task_id not in held:
                _note_lost_hold(f.attempt_id, f.log_text)
        partners = dict(UpdateTask.objects.filter(pk__in=held).values_list("pk", "partner_id"))
        record_many(
            SYSTEM,
            [
                task_change(
                    {"pk": f.task_id, "partner_id": partners[f.task_id]},
                    "fail",
                    "status",
                    Status.IN_PROGRESS,
                    f"{Status.FAILED}: {f.reason[:MAX_REASON]}",
                )
                for f in failed
                if f.task_id in held
            ],
        )
        notify.notify_tasks_failed(sorted(held))  # told in hourly digests (R16, §9)
        emit_task_changes(sorted(held), previous=Status.IN_PROGRESS)
        tasks_ended(sorted(held))  # rollouts: waves end, error budget (R20, R21)
    return [f.task_id for f in failed if f.task_id in held]


def fail_task(
    *, task_id: int, attempt_id: int, worker_name: str, reason: str, log_text: str
) -> bool:
    """One task: see `fail_tasks`. False when the task is no longer held."""
    return bool(
        fail_tasks(worker_name=worker_name, failed=[Failed(task_id, attempt_id, reason, log_text)])
    )


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
            SYSTEM,
            [
                task_change(
                    {"pk": task_id, "partner_id": partner_id},
                    "hand_back",
                    "status",
                    Status.IN_PROGRESS,
                    Status.PLANNED,
                )
            ],
        )
        emit_task_changes([task_id], previous=Status.IN_PROGRESS)
    return True


def save_attempt_log(*, attempt_id: int, log_text: str) -> None:
    """The steps so far, visible while the attempt runs."""
    save_attempt_logs([(attempt_id, log_text)])


def save_attempt_logs(logs: Sequence[tuple[int, str]]) -> None:
    """The logs so far of many running attempts (attempt id, text): one statement."""
    if not logs:
        return
    batchsql.update_rows(
        TaskAttempt,
        ["log"],
        logs,
        where="t.outcome = %s",
        where_params=[AttemptOutcome.RUNNING.value],
    )
