"""The outbox's writers: one function per event, called by domain services inside the
transaction that causes the e-mail (R15–R17), plus the platform administrator's retry.

Who is told:
- partner e-mails go to the partner's administrators (active, with an e-mail address), one
  e-mail per administrator per event listing every task of that partner (a digest), in the
  partner's language; failures too (every task failed in one event, with its reason);
- customer e-mails go to the tenant's notification address, one per task, in the tenant's
  language, for tasks created with *Send e-mail (customer)*.

Every e-mail carries an idempotency key per message and event; it is unique in the outbox
and is the message's Message-ID (see docs/decisions/0005-outbox-delivery.md).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.accounts.models import Administrator
from ucfleet.audit.services import Change, record
from ucfleet.core.cas import compare_and_set
from ucfleet.core.chunks import chunks
from ucfleet.core.errors import Conflict, Forbidden
from ucfleet.core.rows import rows_as
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance.queries import server_zone
from ucfleet.notifications.choices import Kind, Status
from ucfleet.notifications.compose import BulkRenderer, Formatter, as_mail, language_of, render
from ucfleet.notifications.models import Notification
from ucfleet.notifications.outbox import Draft, enqueue
from ucfleet.notifications.queries import get_notification_for
from ucfleet.tenants.models import Partner
from ucfleet.updates.choices import Status as TaskStatus
from ucfleet.updates.choices import TaskType, Timing
from ucfleet.updates.models import UpdateTask

DIGEST_KINDS = {
    Kind.CREATED_PARTNER,
    Kind.CANCELLED_PARTNER,
    Kind.RESCHEDULED_PARTNER,
    Kind.FAILED_PARTNER,
}


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What the texts say about one task; read in one query per chunk, no model instances."""

    id: int
    tenant_name: str
    domain: str
    tenant_language: str
    notification_email: str
    partner_id: int
    task_type: str
    timing: str
    from_version: str
    target_version: str
    earliest_start: datetime
    latest_start: datetime | None
    redeploy: bool
    is_forced: bool
    notify_partner: bool
    notify_customer: bool
    failure_reason: str
    finished: datetime | None
    scheduled_by: str | None


# Where each of TaskFacts' fields is read from.
_FACT_SOURCES = {
    "id": "id",
    "tenant_name": "tenant__name",
    "domain": "tenant__domain",
    "tenant_language": "tenant__language",
    "notification_email": "tenant__notification_email",
    "partner_id": "partner_id",
    "task_type": "task_type",
    "timing": "timing",
    "from_version": "from_version__name",
    "target_version": "target_version__name",
    "earliest_start": "earliest_start",
    "latest_start": "latest_start",
    "redeploy": "redeploy",
    "is_forced": "is_forced",
    "notify_partner": "notify_partner",
    "notify_customer": "notify_customer",
    "failure_reason": "failure_reason",
    "finished": "finished",
    "scheduled_by": "scheduled_by__username",
}


def _facts(tasks: QuerySet[UpdateTask]) -> list[TaskFacts]:
    ordered = tasks.order_by("tenant__name", "id")
    return list(rows_as(TaskFacts, ordered, _FACT_SOURCES, chunk_size=2000))


def _facts_of(task_ids: Iterable[int], *, extra: Q | None = None) -> list[TaskFacts]:
    ids = sorted({int(pk) for pk in task_ids})
    facts: list[TaskFacts] = []
    for chunk in chunks(ids):
        tasks = UpdateTask.objects.filter(pk__in=chunk)
        facts += _facts(tasks.filter(extra) if extra is not None else tasks)
    facts.sort(key=lambda f: (f.tenant_name, f.id))
    return facts


@dataclass(frozen=True)
class PartnerContacts:
    name: str
    language: str
    admins: list[tuple[int, str]]  # (administrator id, e-mail address)


def _partner_contacts(partner_ids: Iterable[int]) -> dict[int, PartnerContacts]:
    """Partner administrators = active administrators of that partner with an address."""
    ids = set(partner_ids)
    admins: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, partner_id, email in (
        Administrator.objects.filter(partner_id__in=ids, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", "partner_id", "email")
    ):
        admins[partner_id].append((pk, email))
    return {
        pk: PartnerContacts(name, language_of(language), admins[pk])
        for pk, name, language in Partner.objects.filter(pk__in=ids).values_list(
            "pk", "name", "language"
        )
    }


def _task_context(fmt: Formatter, f: TaskFacts, old_start: datetime | None) -> dict[str, Any]:
    return {
        "tenant": f.tenant_name,
        "domain": f.domain,
        "from_version": f.from_version,
        "target_version": f.target_version,
        "start": fmt.time(f.earliest_start),
        "latest_start": fmt.time(f.latest_start),
        "old_start": fmt.time(old_start),
        "timing": fmt.label(f.timing),
        "is_immediate": f.timing == Timing.IMMEDIATE,
        "task_type": fmt.label(f.task_type),
        "is_recreate": f.task_type == TaskType.RECREATE,
        "redeploy": f.redeploy,
        "forced": f.is_forced,
        "reason": f.failure_reason,
        "failed_at": fmt.time(f.finished),
    }


def _ids_digest(facts: Sequence[TaskFacts]) -> str:
    text = ",".join(str(f.id) for f in sorted(facts, key=lambda f: f.id))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _partner_mails(
    kind: str,
    facts: Sequence[TaskFacts],
    *,
    tz: ZoneInfo,
    event: str | None,
    old_starts: dict[int, datetime] | None = None,
) -> Iterator[Draft]:
    """One e-mail per partner administrator listing that partner's tasks.

    `event` names the event in the key; None derives it from the task ids, for events that
    happen to a task at most once (cancellation, failure).
    """
    by_partner: dict[int, list[TaskFacts]] = defaultdict(list)
    for f in facts:
        by_partner[f.partner_id].append(f)
    contacts = _partner_contacts(by_partner)
    old_starts = old_starts or {}
    # Digests list their tasks one entry each.
    lines = BulkRenderer(f"{kind}-task") if kind in DIGEST_KINDS else None
    for partner_id, items in by_partner.items():
        partner = contacts[partner_id]
        if not partner.admins:
            continue
        fmt = Formatter(tz, partner.language)
        tasks = [_task_context(fmt, f, old_starts.get(f.id)) for f in items]
        subject, body = render(
            kind,
            partner.language,
            {
                "partner": partner.name,
                "count": len(items),
                "task": tasks[0],
                "task_lines": "".join(lines.text(partner.language, t) for t in tasks)
                if lines
                else "",
                "zone": tz.key,
                "versions": ", ".join(sorted({f.target_version for f in items})),
                "scheduled_by": items[0].scheduled_by or "",
            },
        )
        ids = tuple(f.id for f in items)
        event_key = event or _ids_digest(items)
        for admin_id, email in partner.admins:
            yield Draft(
                kind,
                partner_id,
                (email,),
                partner.language,
                subject,
                body,
                f"{kind}.{event_key}.admin-{admin_id}",
                ids,
            )


def _customer_mails(
    kind: str,
    facts: Iterable[TaskFacts],
    *,
    tz: ZoneInfo,
    event: str | None,
    old_starts: dict[int, datetime] | None = None,
) -> Iterator[Draft]:
    """One e-mail per task to its tenant's notification address, in the tenant's language."""
    facts = [f for f in facts if f.notify_customer and f.notification_email]
    if not facts:
        return
    partner_names = dict(
        Partner.objects.filter(pk__in={f.partner_id for f in facts}).values_list("pk", "name")
    )
    formatters = {code: Formatter(tz, code) for code in ("en", "de")}
    old_starts = old_starts or {}
    mails = BulkRenderer(kind)
    for f in facts:
        language = language_of(f.tenant_language)
        context = _task_context(formatters[language], f, old_starts.get(f.id))
        context.update(partner=partner_names.get(f.partner_id, ""), zone=tz.key)
        subject, body = as_mail(mails.text(language, context))
        key = f"{kind}.{event}.task-{f.id}" if event else f"{kind}.task-{f.id}"
        yield Draft(
            kind, f.partner_id, (f.notification_email,), language, subject, body, key, (f.id,)
        )


def notify_tasks_created(request_id: uuid.UUID) -> None:
    """Tasks of one request were created: a digest per partner administrator (tasks with
    notify_partner) and one e-mail per tenant contact (tasks with notify_customer)."""
    # Held tasks (a later wave, R20) are told their date when their wave is released.
    tasks = (
        UpdateTask.objects.filter(request_id=request_id)
        .filter(Q(notify_partner=True) | Q(notify_customer=True))
        .exclude(status=TaskStatus.HELD)
    )
    facts = _facts(tasks)
    if not facts:
        return
    tz = server_zone()
    event = uuid.UUID(str(request_id)).hex
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                _partner_mails(
                    Kind.CREATED_PARTNER, [f for f in facts if f.notify_partner], tz=tz, event=event
                ),
                _customer_mails(Kind.CREATED_CUSTOMER, facts, tz=tz, event=None),
            )
        )


def notify_tasks_cancelled(task_ids: Iterable[int]) -> None:
    """Notified tasks were cancelled or deleted: cancellation e-mails to the same addresses
    (partner administrators where the task had Send E-mail, the contact where it had Send
    e-mail (customer)). Called before or after the status change; tasks that had already
    run or failed are no cancellation and are left out."""
    facts = _facts_of(
        task_ids,
        extra=(
            Q(status__in=[TaskStatus.PLANNED, TaskStatus.CANCELLED])
            & (Q(notify_partner=True) | Q(notify_customer=True))
        ),
    )
    if not facts:
        return
    tz = server_zone()
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                _partner_mails(
                    Kind.CANCELLED_PARTNER,
                    [f for f in facts if f.notify_partner],
                    tz=tz,
                    event=None,
                ),
                _customer_mails(Kind.CANCELLED_CUSTOMER, facts, tz=tz, event=None),
            )
        )


def notify_tasks_rescheduled(old_starts: dict[int, datetime], *, notify_partner: bool) -> None:
    """Tasks moved to a new start (R9, R12); `old_starts` maps task id → previous start.

    The partner's administrators are told when `notify_partner` (R9's option; for a missed
    window moved on (R12) the worker passes the task's own Send E-mail flag). A customer who
    was told the old date (the task has Send e-mail (customer)) is always told the new one.
    """
    facts = [f for f in _facts_of(old_starts) if f.earliest_start != old_starts[f.id]]
    if not facts:
        return
    tz = server_zone()
    # A task can move to and fro, so the event is this call, not the task.
    event = uuid.uuid4().hex
    with transaction.atomic(savepoint=False):
        enqueue(
            chain(
                _partner_mails(
                    Kind.RESCHEDULED_PARTNER,
                    facts if notify_partner else [],
                    tz=tz,
                    event=event,
                    old_starts=old_starts,
                ),
                _customer_mails(
                    Kind.RESCHEDULED_CUSTOMER, facts, tz=tz, event=event, old_starts=old_starts
                ),
            )
        )


def notify_tasks_failed(task_ids: Iterable[int]) -> None:
    """Tasks failed in one event (a worker's failure, a sweep of missed start windows, a
    recovery from lost workers): each partner's administrators get one digest listing that
    partner's tasks, each with its reason (R16).

    Whatever the tasks' Send E-mail flag: a failure needs someone to act on it. A task
    fails at most once, so the event's key derives from the task ids (stable if the same
    event is reported twice).
    """
    facts = _facts_of(task_ids, extra=Q(status=TaskStatus.FAILED))
    if not facts:
        return
    with transaction.atomic(savepoint=False):
        enqueue(_partner_mails(Kind.FAILED_PARTNER, facts, tz=server_zone(), event=None))


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
