"""Writing outbox rows: in batches, inside the caller's transaction, no query per e-mail.

Raw `executemany` because this is a bulk path (a platform-wide request queues 100,000
customer e-mails); the values that need adapting (JSON, time stamps) are prepared by the
model fields themselves, so the rows are what the ORM would write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.db import connection

from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.choices import Status
from ucfleet.notifications.models import Notification

BATCH = 1000

TaskLink = Notification.tasks.through

_COLUMNS = (
    "kind", "partner_id", "recipients", "language", "subject", "body", "status", "attempts",
    "last_error", "next_attempt_at", "claim_token", "created", "idempotency_key",
)  # fmt: skip


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


def _insert_sql(table: str, columns: Iterable[str]) -> str:
    names = [connection.ops.quote_name(c) for c in columns]
    marks = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {connection.ops.quote_name(table)} ({', '.join(names)}) VALUES ({marks})"


def enqueue(drafts: Iterable[Draft]) -> int:
    """Insert the drafts as queued rows with their task links; returns how many were new.

    A draft whose idempotency key is already in the outbox is the same message for the same
    event and is left out, so an event reported twice still sends each e-mail once.
    """
    opts = Notification._meta
    adapt_json = connection.ops.adapt_json_value
    at = opts.get_field("created").get_db_prep_save(utcnow(), connection)
    notification_sql = _insert_sql(opts.db_table, _COLUMNS)
    link_opts = TaskLink._meta
    link_sql = _insert_sql(
        link_opts.db_table,
        [link_opts.get_field("notification").column, link_opts.get_field("updatetask").column],
    )
    created_count = 0
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
        if not fresh:
            continue
        rows = [
            (d.kind, d.partner_id,
             adapt_json(list(d.recipients), None), d.language,
             d.subject, d.body, Status.QUEUED.value, 0, "", at, "", at, d.idempotency_key)
            for d in fresh.values()
        ]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.executemany(notification_sql, rows)
        ids = dict(
            Notification.objects.filter(idempotency_key__in=list(fresh)).values_list(
                "idempotency_key", "pk"
            )
        )
        links = [(ids[key], task_id) for key, d in fresh.items() for task_id in d.task_ids]
        with connection.cursor() as cursor:
            cursor.executemany(link_sql, links)
        created_count += len(fresh)
    return created_count
