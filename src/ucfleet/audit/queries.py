from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ucfleet.audit.models import ChangeLogEntry


def change_log_visible_to(admin: Any) -> QuerySet[ChangeLogEntry]:
    """Platform administrators see everything; partner administrators their partner's entries."""
    entries = ChangeLogEntry.objects.all()
    if admin.is_platform_admin:
        return entries
    return entries.filter(partner_id=admin.partner_id)
