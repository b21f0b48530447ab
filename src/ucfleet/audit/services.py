"""The change log's only writer. Callers pass what changed; this keeps who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

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


def record_many(actor: Actor, changes: Any) -> None:
    at = now()
    actor_id = actor.pk
    actor_name = actor.username or SYSTEM
    ChangeLogEntry.objects.bulk_create(
        (
            ChangeLogEntry(
                at=at,
                actor_id=actor_id,
                actor_name=actor_name,
                action=c.action,
                object_type=c.object_type,
                object_id=_text(c.object_id),
                field=c.field,
                old=_text(c.old),
                new=_text(c.new),
                partner_id=c.partner_id,
            )
            for c in changes
        ),
        batch_size=1000,
    )


def purge_expired() -> int:
    """Drop entries older than the retention (default 90 days); returns how many."""
    cutoff = now() - timedelta(days=int(settings.UCFLEET["CHANGE_LOG_DAYS"]))
    deleted, _ = ChangeLogEntry.objects.filter(at__lt=cutoff).delete()
    return deleted
