"""Writing outbox rows: in batches, inside the caller's transaction, no query per e-mail."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.choices import Status
from ucfleet.notifications.models import Notification

BATCH = 1000

TaskLink = Notification.tasks.through


@dataclass(frozen=True, slots=True)
class Draft:
    kind: str
    partner_id: int
    recipients: tuple[str, ...]
    language: str
    subject: str
    body: str
    idempotency_key: str
    task_ids: tuple[int, ...]


def _batches(drafts: Iterable[Draft]) -> Iterator[list[Draft]]:
    it = iter(drafts)
    while batch := list(islice(it, BATCH)):
        yield batch


def enqueue(drafts: Iterable[Draft]) -> int:
    """Insert the drafts as queued rows with their task links; returns how many were new.

    A draft whose idempotency key is already in the outbox is the same message for the same
    event and is left out, so an event reported twice still sends each e-mail once.
    """
    created_count = 0
    at = utcnow()
    for batch in _batches(drafts):
        keys = [d.idempotency_key for d in batch]
        known = set(
            Notification.objects.filter(idempotency_key__in=keys).values_list(
                "idempotency_key", flat=True
            )
        )
        fresh: dict[str, Draft] = {}
        for draft in batch:
            if draft.idempotency_key not in known:
                fresh.setdefault(draft.idempotency_key, draft)
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    kind=d.kind,
                    partner_id=d.partner_id,
                    recipients=list(d.recipients),
                    language=d.language,
                    subject=d.subject,
                    body=d.body,
                    status=Status.QUEUED,
                    next_attempt_at=at,
                    created=at,
                    idempotency_key=d.idempotency_key,
                )
                for d in fresh.values()
            ]
        )
        TaskLink.objects.bulk_create(
            [
                TaskLink(notification_id=row.pk, updatetask_id=task_id)
                for row, draft in zip(rows, fresh.values(), strict=True)
                for task_id in draft.task_ids
            ],
            batch_size=5000,
        )
        created_count += len(rows)
    return created_count
