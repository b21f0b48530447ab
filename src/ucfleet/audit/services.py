"""The change log's only writer. Callers pass what changed; this keeps who and when."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection

from ucfleet.audit.models import ChangeLogEntry
from ucfleet.core import batchsql
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


def group_keys(changes: Sequence[Change]) -> list[str | None]:
    """Each change's group: one key per action and object type of the call whose entries
    are about several objects or several partners (a bulk action: 5,000 tasks rescheduled,
    a platform-wide request's entry per partner, read as one line); None where the action
    touched one object (several fields of one tenant stay separate lines)."""
    seen: dict[tuple[str, str], set[tuple[str, int | None]]] = defaultdict(set)
    for c in changes:
        seen[c.action, c.object_type].add((_text(c.object_id), c.partner_id))
    keys = {bucket: uuid.uuid4().hex for bucket, whats in seen.items() if len(whats) > 1}
    return [keys.get((c.action, c.object_type)) for c in changes]


# The columns of a row of `record_many` that differ between its changes.
_COLUMNS = (
    "action",
    "object_type",
    "object_id",
    "field",
    "old",
    "new",
    "partner_id",
    "group",
)


def record_many(actor: Actor, changes: Iterable[Change]) -> None:
    """Write one entry per change, inside the caller's transaction: one INSERT per
    batchsql.BATCH rows, with one parameter per column. Raw SQL because the worker writes
    several entries per task thousands of times a minute, and building model instances cost
    more than the insert."""
    opts = ChangeLogEntry._meta
    changes = list(changes)
    rows = [
        (
            c.action,
            c.object_type,
            _text(c.object_id),
            c.field,
            _text(c.old),
            _text(c.new),
            c.partner_id,
            group,
        )
        for c, group in zip(changes, group_keys(changes), strict=True)
    ]
    if rows:
        at = opts.get_field("at").get_db_prep_save(now(), connection)
        constants = {"at": at, "actor_id": actor.pk, "actor_name": actor.username or SYSTEM}
        batchsql.insert_rows(ChangeLogEntry, _COLUMNS, rows, constants=constants)


def purge_expired() -> int:
    """Drop entries older than the retention (default 90 days); returns how many."""
    cutoff = now() - timedelta(days=int(settings.UCFLEET["CHANGE_LOG_DAYS"]))
    deleted, _ = ChangeLogEntry.objects.filter(at__lt=cutoff).delete()
    return deleted
