"""The writes a rollout's state changes are made of, shared by the hooks, the release and
the administrators' actions (`steering`). Each is a compare-and-set on the task's status,
inside the caller's transaction; docs/rollouts.md describes the protocol.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from ucfleet.accounts.actors import SYSTEM, Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import bulk_compare_and_set, compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.rollouts import Failure, notify_rollout_paused
from ucfleet.rollouts import events
from ucfleet.rollouts.choices import ACTIVE_ROLLOUT_STATUSES, RolloutStatus, WaveStatus
from ucfleet.rollouts.models import Rollout, RolloutWave
from ucfleet.updates.choices import ENDED_STATUSES, OPEN_STATUSES, Status
from ucfleet.updates.models import UpdateTask
from ucfleet.webhooks.emission import emit_task_changes

# R21: a percentage budget counts once at least this many tasks have ended.
PERCENT_BUDGET_MINIMUM = 10
# Failed tenants a paused reason names (the e-mail names more).
REASON_FAILURES = 10
EMAIL_FAILURES = 50


def _tasks(rollout: Rollout, partner_id: int | None) -> Q:
    q = Q(rollout=rollout)
    return q & Q(partner_id=partner_id) if partner_id is not None else q


def _log_tasks(
    actor: Actor, rows: Iterable[tuple[int, int]], action: str, old: str, new: str
) -> None:
    record_many(
        actor,
        (Change(action, "update_task", pk, "status", old, new, partner_id=p) for pk, p in rows),
    )


def hold_planned(actor: Actor, rollout: Rollout, *, partner_id: int | None = None) -> list[int]:
    """Planned → held (pause): a task a worker claimed meanwhile runs and finishes."""
    rows = dict(
        UpdateTask.objects.filter(_tasks(rollout, partner_id), status=Status.PLANNED).values_list(
            "pk", "partner_id"
        )
    )
    held = bulk_compare_and_set(
        UpdateTask,
        sorted(rows),
        expected={"status": Status.PLANNED},
        changes={"status": Status.HELD},
    )
    _log_tasks(actor, ((pk, rows[pk]) for pk in held), "pause", Status.PLANNED, Status.HELD)
    emit_task_changes(held, previous=Status.PLANNED)
    return held


def released_indexes(rollout: Rollout) -> list[int]:
    return list(rollout.waves.exclude(status=WaveStatus.HELD).values_list("index", flat=True))


def unhold_released(actor: Actor, rollout: Rollout, *, partner_id: int | None = None) -> list[int]:
    """Held → planned for the tasks of released waves (resume). A maintenance-window task
    whose latest start passed meanwhile is moved to the next occurrence, with notice, by
    the worker's missed-window sweep (R12) like any other."""
    rows = dict(
        UpdateTask.objects.filter(
            _tasks(rollout, partner_id),
            status=Status.HELD,
            wave__in=released_indexes(rollout),
        ).values_list("pk", "partner_id")
    )
    planned = bulk_compare_and_set(
        UpdateTask,
        sorted(rows),
        expected={"status": Status.HELD},
        changes={"status": Status.PLANNED},
    )
    _log_tasks(actor, ((pk, rows[pk]) for pk in planned), "resume", Status.HELD, Status.PLANNED)
    emit_task_changes(planned, previous=Status.HELD)
    return planned


def cancel_open(
    actor: Actor, rollout: Rollout, *, partner_id: int | None = None
) -> tuple[list[int], list[int]]:
    """Planned and held → cancelled (abort). Returns the cancelled ids and those of them
    whose tenants had been told a date (tasks of released waves): only those get the
    cancellation e-mails (R16); a held wave's tenants were never told."""
    released = set(released_indexes(rollout))
    at = utcnow()
    rows = list(
        UpdateTask.objects.filter(
            _tasks(rollout, partner_id), status__in=[Status.PLANNED, Status.HELD]
        ).values_list("pk", "partner_id", "status", "wave")
    )
    cancelled: list[int] = []
    for status in (Status.PLANNED, Status.HELD):
        cancelled += bulk_compare_and_set(
            UpdateTask,
            sorted(pk for pk, _, s, _ in rows if s == status),
            expected={"status": status},
            changes={"status": Status.CANCELLED, "finished": at},
        )
    done = set(cancelled)
    record_many(
        actor,
        (
            Change("cancel", "update_task", pk, "status", s, Status.CANCELLED, partner_id=p)
            for pk, p, s, _ in rows
            if pk in done
        ),
    )
    announced = [pk for pk, _, _, wave in rows if pk in done and (wave or 1) in released]
    emit_task_changes(sorted(done), previous={pk: s for pk, _, s, _ in rows if pk in done})
    return sorted(cancelled), announced


def _has_open(rollout: Rollout, **filters: object) -> bool:
    return UpdateTask.objects.filter(rollout=rollout, status__in=OPEN_STATUSES, **filters).exists()


def end_waves(rollout: Rollout, *, at: datetime) -> list[int]:
    """Released waves without an open task have ended (R20)."""
    ended = []
    for wave in rollout.waves.filter(status=WaveStatus.RELEASED).order_by("index"):
        if not _has_open(rollout, wave=wave.index) and compare_and_set(
            RolloutWave,
            wave.pk,
            expected={"status": WaveStatus.RELEASED},
            changes={"status": WaveStatus.ENDED, "ended_at": at},
        ):
            ended.append(wave.index)
    return ended


def complete_if_done(rollout: Rollout) -> bool:
    """Every wave ended and no open task left: the rollout is completed."""
    if rollout.status not in (*ACTIVE_ROLLOUT_STATUSES, RolloutStatus.PAUSED):
        return False
    if rollout.waves.exclude(status=WaveStatus.ENDED).exists() or _has_open(rollout):
        return False
    old = rollout.status
    if not compare_and_set(
        Rollout,
        rollout.pk,
        expected={"status": old},
        changes={"status": RolloutStatus.COMPLETED, "paused_partners": []},
    ):
        return False
    rollout.status = RolloutStatus.COMPLETED
    events.log_change(SYSTEM, rollout, "complete", "status", old, RolloutStatus.COMPLETED)
    events.emit("rollout.completed", rollout)
    return True


def budget_exceeded(rollout: Rollout) -> tuple[bool, int, int]:
    """(exceeded, failed, ended) by R21: more failures than the count, or a larger share of
    the ended tasks than the percentage once at least 10 have ended. After a resume only
    what failed and ended since counts (the bases)."""
    if rollout.max_failures is None and rollout.max_failure_percent is None:
        return False, 0, 0
    failed = UpdateTask.objects.filter(rollout=rollout, status=Status.FAILED).count()
    if failed <= rollout.budget_failed_base:
        return False, failed, 0
    ended = UpdateTask.objects.filter(rollout=rollout, status__in=ENDED_STATUSES).count()
    new_failed = failed - rollout.budget_failed_base
    if rollout.max_failures is not None:
        return new_failed > rollout.max_failures, failed, ended
    new_ended = ended - rollout.budget_ended_base
    percent = rollout.max_failure_percent or 0.0
    exceeded = new_ended >= PERCENT_BUDGET_MINIMUM and new_failed * 100 > percent * new_ended
    return exceeded, failed, ended


def _failures(rollout: Rollout, limit: int) -> list[Failure]:
    rows = (
        UpdateTask.objects.filter(rollout=rollout, status=Status.FAILED)
        .order_by("finished", "id")
        .values_list("pk", "tenant__name", "partner__name", "failure_reason", "partner_id")[:limit]
    )
    return [Failure(pk, tenant, partner, reason) for pk, tenant, partner, reason, _ in rows]


def budget_text(rollout: Rollout) -> str:
    if rollout.max_failures is not None:
        return f"{rollout.max_failures} failure{'s' if rollout.max_failures != 1 else ''}"
    return f"{rollout.max_failure_percent:g} % of the ended tasks"


def auto_pause(rollout: Rollout, *, failed: int, ended: int) -> bool:
    """R21: the budget is exceeded. The rollout pauses (its planned tasks held, running ones
    finish), one e-mail reaches the platform administrators and the creator, and
    `rollout.paused` is emitted. The reason's first line is the summary; the lines after it
    name the failed tenants (partners of a shared rollout read the summary only)."""
    old = rollout.status
    failures = _failures(rollout, EMAIL_FAILURES)
    summary = (
        f"Error budget exceeded: {failed} of {ended} ended tasks failed "
        f"(budget: {budget_text(rollout)})."
    )
    named = "\n".join(f"{f.tenant}: {f.reason}" for f in failures[:REASON_FAILURES])
    more = failed - min(len(failures), REASON_FAILURES)
    reason = (
        summary + ("\n" + named if named else "") + (f"\n… and {more} more" if more > 0 else "")
    )
    if not compare_and_set(
        Rollout,
        rollout.pk,
        expected={"status": old},
        changes={"status": RolloutStatus.PAUSED, "paused_reason": reason},
    ):
        return False
    rollout.status, rollout.paused_reason = RolloutStatus.PAUSED, reason
    hold_planned(SYSTEM, rollout)
    events.log_change(SYSTEM, rollout, "pause", "status", old, f"{RolloutStatus.PAUSED}: {summary}")
    first_partner = (
        UpdateTask.objects.filter(pk=failures[0].task_id).values_list("partner_id", flat=True).get()
        if failures
        else events.partner_ids_of(rollout)[0]
    )
    notify_rollout_paused(
        rollout_id=rollout.pk,
        name=rollout.name,
        target_version=rollout.target_version.name,
        created_by_id=rollout.created_by_id,
        partner_id=first_partner,
        max_failures=rollout.max_failures,
        max_failure_percent=rollout.max_failure_percent,
        ended_count=ended,
        failures=failures,
        failed_count=failed,
    )
    events.emit("rollout.paused", rollout)
    return True


def settle(rollout: Rollout, *, at: datetime | None = None) -> None:
    """After tasks of the rollout ended: its waves end, its budget is checked, it completes."""
    at = at or utcnow()
    if rollout.status in ACTIVE_ROLLOUT_STATUSES:
        exceeded, failed, ended = budget_exceeded(rollout)
        if exceeded:
            auto_pause(rollout, failed=failed, ended=ended)
    end_waves(rollout, at=at)
    started = UpdateTask.objects.filter(rollout=rollout).exclude(
        status__in=[Status.PLANNED, Status.HELD, Status.CANCELLED]
    )
    if (
        rollout.status == RolloutStatus.SCHEDULED
        and started.exists()
        and compare_and_set(
            Rollout,
            rollout.pk,
            expected={"status": RolloutStatus.SCHEDULED},
            changes={"status": RolloutStatus.RUNNING},
        )
    ):
        rollout.status = RolloutStatus.RUNNING
    complete_if_done(rollout)
