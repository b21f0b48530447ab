"""The outbox's writers: one function per event, called by domain services inside the
transaction that causes the e-mail (R15–R17). Implemented by the notifications issue (#5);
until then these record nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID


def notify_tasks_created(request_id: UUID) -> None:
    """Tasks of one request were created: a digest per partner administrator (tasks with
    notify_partner) and one e-mail per tenant contact (tasks with notify_customer)."""


def notify_tasks_cancelled(task_ids: Iterable[int]) -> None:
    """Notified tasks were cancelled or deleted: cancellation e-mails to the same addresses."""


def notify_tasks_rescheduled(old_starts: dict[int, datetime], *, notify_partner: bool) -> None:
    """Tasks moved to a new start (R9, R12); `old_starts` maps task id → previous start."""


def notify_task_failed(task_id: int) -> None:
    """A task failed: the partner's administrators are told, with the reason (R16)."""
