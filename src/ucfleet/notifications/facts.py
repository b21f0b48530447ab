"""What the e-mail texts say about tasks and partners: read in one query per chunk, no model
instances (a platform-wide request has 100,000 tasks)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from ucfleet.accounts.models import Administrator
from ucfleet.core.chunks import chunks
from ucfleet.core.rows import rows_as
from ucfleet.notifications.compose import Formatter, language_of
from ucfleet.tenants.models import Partner
from ucfleet.updates.choices import TaskType, Timing
from ucfleet.updates.models import UpdateTask


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What the texts say about one task."""

    id: int
    tenant_name: str
    domain: str
    tenant_language: str
    notification_email: str
    partner_id: int
    request_id: Any
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
    "request_id": "request_id",
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


def facts(tasks: QuerySet[UpdateTask]) -> list[TaskFacts]:
    ordered = tasks.order_by("tenant__name", "id")
    return list(rows_as(TaskFacts, ordered, _FACT_SOURCES, chunk_size=2000))


def facts_of(task_ids: Iterable[int], *, extra: Q | None = None) -> list[TaskFacts]:
    ids = sorted({int(pk) for pk in task_ids})
    found: list[TaskFacts] = []
    for chunk in chunks(ids):
        tasks = UpdateTask.objects.filter(pk__in=chunk)
        found += facts(tasks.filter(extra) if extra is not None else tasks)
    found.sort(key=lambda f: (f.tenant_name, f.id))
    return found


@dataclass(frozen=True)
class PartnerContacts:
    name: str
    language: str
    admins: list[tuple[int, str]]  # (administrator id, e-mail address)


def partner_contacts(partner_ids: Iterable[int]) -> dict[int, PartnerContacts]:
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


def task_context(fmt: Formatter, f: TaskFacts, old_start: datetime | None) -> dict[str, Any]:
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


def ids_digest(items: Sequence[TaskFacts]) -> str:
    text = ",".join(str(f.id) for f in sorted(items, key=lambda f: f.id))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
