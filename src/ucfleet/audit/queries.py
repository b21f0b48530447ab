from __future__ import annotations

from django.db.models import QuerySet

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.audit.models import ChangeLogEntry


def change_log_visible_to(admin: Actor) -> QuerySet[ChangeLogEntry]:
    """Platform administrators see everything; partner administrators their partner's entries."""
    entries = ChangeLogEntry.objects.all()
    if admin.is_platform_admin:
        return entries
    return entries.filter(partner_id=partner_scope(admin))
