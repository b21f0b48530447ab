"""Writing events into the webhook outbox: one row per endpoint × event, inside the caller's
transaction, in bulk (one endpoint read, one task read per chunk, one INSERT per batch).

Who receives what (R1, docs/webhooks.md):
- an event about a partner's tenants (`partner_id` set) goes to the platform's endpoints and
  to that partner's endpoints, never to another partner's;
- a platform-level event (`partner_id` None) goes to the platform's endpoints, and with
  `broadcast=True` (platform maintenance: data every partner sees in the portal anyway) to
  every partner's endpoints too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection

from ucfleet.core.cas import CHUNK
from ucfleet.core.timeutils import UTC
from ucfleet.core.timeutils import now as utcnow
from ucfleet.webhooks.choices import DeliveryStatus, Event
from ucfleet.webhooks.models import WebhookDelivery, WebhookEndpoint
from ucfleet.webhooks.validation import subscribes

BATCH = 1000
TASK_EVENTS = (Event.TASK_STATUS_CHANGED.value, Event.TASK_FAILED.value)
_TASK_FIELDS = (
    "pk", "status", "partner_id", "partner__name", "tenant_id", "tenant__name",
    "target_version__name", "earliest_start", "finished", "failure_reason",
)  # fmt: skip

_COLUMNS = (
    "endpoint_id", "event", "body", "status", "attempts", "last_error", "next_attempt_at",
    "claim_token", "created",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Something that happened, before it is addressed to endpoints."""

    event: str
    data: Mapping[str, Any]
    partner_id: int | None = None  # whose tenants it is about; None: platform-level
    broadcast: bool = False  # platform-level data that partners' endpoints may receive too


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render_body(event: str, data: Mapping[str, Any], *, at: datetime) -> str:
    """The delivery's body, fixed once: compact JSON, ASCII (so any text survives)."""
    return json.dumps(
        {"event": event, "at": utc_text(at), "data": data},
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )


def _active_endpoints() -> list[tuple[int, int | None, list[str]]]:
    """Raw SQL: every task transition of the worker asks this (mostly to learn that no
    endpoint listens), and building the query through the ORM cost more than running it."""
    opts = WebhookEndpoint._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, partner_id, events FROM {connection.ops.quote_name(opts.db_table)} "
            "WHERE is_active = %s ORDER BY id",
            [True],
        )
        rows = cursor.fetchall()
    return [
        (pk, partner, json.loads(events) if isinstance(events, str | bytes) else events)
        for pk, partner, events in rows
    ]


def _receives(partner_id: int | None, occurrence: Occurrence) -> bool:
    if partner_id is None:  # the platform's endpoint: everything
        return True
    if occurrence.partner_id is None:
        return occurrence.broadcast
    return partner_id == occurrence.partner_id


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(_COLUMNS))
    columns = ", ".join(quote(c) for c in _COLUMNS)
    return f"INSERT INTO {quote(WebhookDelivery._meta.db_table)} ({columns}) VALUES ({marks})"


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


def emit(
    occurrences: Iterable[Occurrence],
    *,
    endpoints: list[tuple[int, int | None, list[str]]] | None = None,
) -> int:
    """Queue a delivery per subscribed endpoint and occurrence; returns how many."""
    endpoints = _active_endpoints() if endpoints is None else endpoints
    if not endpoints:
        return 0
    moment = utcnow()
    at = WebhookDelivery._meta.get_field("created").get_db_prep_save(moment, connection)

    def rows() -> Iterator[tuple[Any, ...]]:
        for occurrence in occurrences:
            body: str | None = None
            for endpoint_id, partner_id, events in endpoints:
                if subscribes(events, occurrence.event) and _receives(partner_id, occurrence):
                    body = body or render_body(occurrence.event, occurrence.data, at=moment)
                    yield (endpoint_id, occurrence.event, body, DeliveryStatus.QUEUED.value,
                           0, "", at, "", at)  # fmt: skip

    count = 0
    sql = _insert_sql()
    for batch in _batches(rows()):
        with connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        count += len(batch)
    return count


def emit_event(
    event: str, data: Mapping[str, Any], *, partner_id: int | None = None, broadcast: bool = False
) -> int:
    """One event (e.g. a rollout's `rollout.paused`): call it inside the transaction of the
    change. `data` must hold only what every receiver may see: with `partner_id` that
    partner's own data; without it platform-level data (`broadcast` for partners too)."""
    if event not in Event.values:
        raise ValueError(f"unknown webhook event {event!r}")
    return emit([Occurrence(event, data, partner_id, broadcast)])


def enqueue_for_endpoint(
    endpoint: WebhookEndpoint, event: str, data: Mapping[str, Any]
) -> WebhookDelivery:
    moment = utcnow()
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        body=render_body(event, data, at=moment),
        next_attempt_at=moment,
        created=moment,
    )


def _task_data(row: Mapping[str, Any], previous: str | None) -> dict[str, Any]:
    return {
        "task": {
            "id": row["pk"],
            "status": row["status"],
            "previous_status": previous,
            "target_version": row["target_version__name"],
            "earliest_start": utc_text(row["earliest_start"]),
            "finished": utc_text(row["finished"]),
            "failure_reason": row["failure_reason"],
        },
        "tenant": {"id": row["tenant_id"], "name": row["tenant__name"]},
        "partner": {"id": row["partner_id"], "name": row["partner__name"]},
    }


def emit_task_changes(
    task_ids: Iterable[int], *, previous: str | Mapping[int, str | None] | None
) -> int:
    """`task.status_changed` (and `task.failed` for failed ones) for tasks whose status the
    caller just changed, read as they now are. `previous`: the status they had (None for
    new tasks), one for all or per task id. Costs one query when no endpoint listens."""
    from ucfleet.updates.models import UpdateTask  # updates calls us: import at use

    endpoints = [e for e in _active_endpoints() if any(subscribes(e[2], t) for t in TASK_EVENTS)]
    if not endpoints:
        return 0
    ids = list(task_ids)

    def occurrences() -> Iterator[Occurrence]:
        for offset in range(0, len(ids), CHUNK):
            rows = (
                UpdateTask.objects.filter(pk__in=ids[offset : offset + CHUNK])
                .order_by("id")
                .values(*_TASK_FIELDS)
            )
            for row in rows:
                before = previous.get(row["pk"]) if isinstance(previous, Mapping) else previous
                data = _task_data(row, before)
                yield Occurrence(Event.TASK_STATUS_CHANGED.value, data, row["partner_id"])
                if row["status"] == "failed":
                    yield Occurrence(Event.TASK_FAILED.value, data, row["partner_id"])

    return emit(occurrences(), endpoints=endpoints)


def emit_maintenance(maintenance: Any, *, event: str, deleted: bool = False) -> int:
    """`maintenance.created`/`.changed`: platform-level data, so every endpoint may get it."""
    data = {
        "maintenance": {
            "id": maintenance.pk,
            "start": utc_text(maintenance.start),
            "end": utc_text(maintenance.end),
            "message_en": maintenance.message_en,
            "message_de": maintenance.message_de,
            "deleted": deleted,
        }
    }
    return emit_event(event, data, broadcast=True)


def emit_rollout_event(
    event: str, data: Mapping[str, Any], *, partner_data: Mapping[int, Mapping[str, Any]]
) -> int:
    """`rollout.*` (R30): the platform's endpoints get `data` (the whole rollout), each
    concerned partner's endpoints get `partner_data[partner_id]` (its part only, R1)."""
    if event not in Event.values:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = _active_endpoints()
    platform = [e for e in endpoints if e[1] is None]
    partners = [e for e in endpoints if e[1] is not None]
    count = emit([Occurrence(event, data)], endpoints=platform) if platform else 0
    if partners:
        count += emit(
            (Occurrence(event, d, partner_id) for partner_id, d in partner_data.items()),
            endpoints=partners,
        )
    return count
