"""The outbox's writers: one function per event, called by domain services inside the
transaction that causes the e-mail (R15–R17), plus the platform administrator's retry.

Who is told:
- partner e-mails go to the partner's administrators (active, with an e-mail address), one
  e-mail per administrator per event listing that partner's tasks (a digest, capped at 200
  tasks plus a link: `digests.py`), in the partner's language; failures are collected and
  told per request and hour (`failures.py`, docs/decisions/0008-failure-digests.md);
- customer e-mails go to the tenant's notification address, one per task, in the tenant's
  language, for tasks created with *Send e-mail (customer)*.

Every e-mail carries an idempotency key per message and event; it is unique in the outbox
and is the message's Message-ID (see docs/decisions/0005-outbox-delivery.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record
from ucfleet.core.cas import compare_and_set
from ucfleet.core.errors import Conflict, Forbidden
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import server_zone
from ucfleet.notifications.choices import Kind, Status
from ucfleet.notifications.digests import DIGEST_KINDS, customer_mails, partner_mails
from ucfleet.notifications.facts import facts, facts_of
from ucfleet.notifications.failures import record_failures
from ucfleet.notifications.models import Notification
from ucfleet.notifications.outbox import enqueue
from ucfleet.notifications.queries import get_notification_for
from ucfleet.updates.choices import Status as TaskStatus
from ucfleet.updates.models import UpdateTask

__all__ = [
    "DIGEST_KINDS",
    "notify_task_failed",
    "notify_tasks_cancelled",
    "notify_tasks_created",
    "notify_tasks_failed",
    "notify_tasks_rescheduled",
    "retry_notification",
]


def notify_tasks_created(request_id: uuid.UUID) -> None:
    """Tasks of one request were created: a digest per partner administrator (tasks with
    notify_partner) and one e-mail per tenant contact (tasks with notify_customer)."""
    # Held tasks (a later wave, R20) are told their date when their wave is released.
    tasks = (
        UpdateTask.objects.filter(request_id=request_id)
        .filter(Q(notify_partner=True) | Q(notify_customer=True))
        .exclude(status=TaskStatus.HELD)
    )
    found = facts(tasks)
    if not found:
        return
    tz = server_zone()
    event = uuid.UUID(str(request_id)).hex
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                partner_mails(
                    Kind.CREATED_PARTNER, [f for f in found if f.notify_partner], tz=tz, event=event
                ),
                customer_mails(Kind.CREATED_CUSTOMER, found, tz=tz, event=None),
            )
        )


def notify_tasks_cancelled(task_ids: Iterable[int]) -> None:
    """Notified tasks were cancelled or deleted: cancellation e-mails to the same addresses
    (partner administrators where the task had Send E-mail, the contact where it had Send
    e-mail (customer)). Called before or after the status change; tasks that had already
    run or failed are no cancellation and are left out."""
    found = facts_of(
        task_ids,
        extra=(
            Q(status__in=[TaskStatus.PLANNED, TaskStatus.CANCELLED])
            & (Q(notify_partner=True) | Q(notify_customer=True))
        ),
    )
    if not found:
        return
    tz = server_zone()
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                partner_mails(
                    Kind.CANCELLED_PARTNER,
                    [f for f in found if f.notify_partner],
                    tz=tz,
                    event=None,
                ),
                customer_mails(Kind.CANCELLED_CUSTOMER, found, tz=tz, event=None),
            )
        )


def notify_tasks_rescheduled(old_starts: dict[int, datetime], *, notify_partner: bool) -> None:
    """Tasks moved to a new start (R9, R12); `old_starts` maps task id → previous start.

    The partner's administrators are told when `notify_partner` (R9's option; for a missed
    window moved on (R12) the worker passes the task's own Send E-mail flag). A customer who
    was told the old date (the task has Send e-mail (customer)) is always told the new one.
    """
    found = [f for f in facts_of(old_starts) if f.earliest_start != old_starts[f.id]]
    if not found:
        return
    tz = server_zone()
    # A task can move to and fro, so the event is this call, not the task.
    event = uuid.uuid4().hex
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                partner_mails(
                    Kind.RESCHEDULED_PARTNER,
                    found if notify_partner else [],
                    tz=tz,
                    event=event,
                    old_starts=old_starts,
                ),
                customer_mails(
                    Kind.RESCHEDULED_CUSTOMER, found, tz=tz, event=event, old_starts=old_starts
                ),
            )
        )


def notify_tasks_failed(task_ids: Iterable[int]) -> None:
    """Tasks failed (a worker's failure, a sweep of missed start windows, a recovery from
    lost workers): their partner's administrators are told in the digest of the task's
    request and hour (R16, §9), composed once the hour has closed (`failures.py`).

    Whatever the tasks' Send E-mail flag: a failure needs someone to act on it. A task
    fails at most once per run, so a failure reported twice is told once.
    """
    record_failures(task_ids)


def notify_task_failed(task_id: int) -> None:
    """One task failed: see `notify_tasks_failed`."""
    notify_tasks_failed([task_id])


def retry_notification(admin: Actor, pk: Any) -> Notification:
    """A failed e-mail goes back to the queue with a fresh set of attempts (platform
    administrators only). A sent e-mail is never sent again from here."""
    if not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators can send e-mails again."))
    notification = get_notification_for(admin, pk)
    with transaction.atomic():
        is_requeued = compare_and_set(
            Notification,
            notification.pk,
            expected={"status": Status.FAILED},
            changes={
                "status": Status.QUEUED,
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "claim_token": "",
                "claimed_at": None,
            },
        )
        if not is_requeued:
            raise Conflict(_("Only failed e-mails can be sent again."), code="not_failed")
        record(
            admin,
            Change(
                "retry",
                "notification",
                notification.pk,
                "status",
                Status.FAILED,
                Status.QUEUED,
                partner_id=notification.partner_id,
            ),
        )
    notification.refresh_from_db()
    return notification
