"""Missed start windows (R12): moved to the next window occurrence, or failed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import Change, record_many
from ucfleet.core.cas import bulk_compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import get_window, next_task_window
from ucfleet.notifications import services as notify
from ucfleet.rollouts.hooks import tasks_ended
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.execution.common import START_WINDOW_MISSED, task_change
from ucfleet.updates.models import UpdateTask
from ucfleet.webhooks.emission import emit_task_changes


@dataclass
class MissedWindows:
    moved: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


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
                    task_change(
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
                changes.append(
                    task_change(task, "fail", "status", Status.PLANNED, f"failed: {reason}")
                )
        record_many(SYSTEM, changes)
        for notify_partner, old_starts in moved_from.items():
            notify.notify_tasks_rescheduled(old_starts, notify_partner=notify_partner)
        if result.failed:
            notify.notify_tasks_failed(result.failed)
            emit_task_changes(result.failed, previous=Status.PLANNED)
            tasks_ended(result.failed)  # rollouts: waves end, error budget (R20, R21)
    return result
