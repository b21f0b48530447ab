"""The change log's only writer. Callers pass what changed; this keeps who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection

from ucfleet.audit.models import ChangeLogEntry
from ucfleet.core.timeutils import now

if TYPE_CHECKING:
    from ucfleet.accounts.actors import Actor

SYSTEM = "system"


@dataclass(frozen=True)
class Change:
    action: str
    object_type: str
    object_id: Any
    field: str = ""
    old: Any = ""
    new: Any = ""
    partner_id: int | None = None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def record(actor: Actor, *changes: Change) -> None:
    """Write one entry per change, in one statement, inside the caller's transaction."""
    record_many(actor, changes)


# Rows per INSERT statement (SQLite allows 32,766 parameters: 10 a row).
BATCH = 1000


def record_many(actor: Actor, changes: Any) -> None:
    """Write one entry per change, inside the caller's transaction: multi-row INSERTs of up
    to BATCH rows. Raw SQL because the worker writes several entries per task thousands of
    times a minute, and building model instances cost more than the insert."""
    opts = ChangeLogEntry._meta
    at = opts.get_field("at").get_db_prep_save(now(), connection)
    actor_id = actor.pk
    actor_name = actor.username or SYSTEM
    rows = [
        (
            at,
            actor_id,
            actor_name,
            c.action,
            c.object_type,
            _text(c.object_id),
            c.field,
            _text(c.old),
            _text(c.new),
            c.partner_id,
        )
        for c in changes
    ]
    if not rows:
        return
    table = connection.ops.quote_name(opts.db_table)
    columns = (
        "at, actor_id, actor_name, action, object_type, object_id, field, old, new, partner_id"
    )
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), BATCH):
            batch = rows[offset : offset + BATCH]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}",
                [v for row in batch for v in row],
            )


def purge_expired() -> int:
    """Drop entries older than the retention (default 90 days); returns how many."""
    cutoff = now() - timedelta(days=int(settings.UCFLEET["CHANGE_LOG_DAYS"]))
    deleted, _ = ChangeLogEntry.objects.filter(at__lt=cutoff).delete()
    return deleted
