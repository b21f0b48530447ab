from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.accounts.models import Administrator
from ucfleet.core.errors import NotFound
from ucfleet.core.ids import lookup_id


def administrators_visible_to(admin: Actor) -> QuerySet[Administrator]:
    """Platform administrators see everyone; partner administrators their partner's (R1)."""
    admins = Administrator.objects.select_related("partner")
    if admin.is_platform_admin:
        return admins
    return admins.filter(partner_id=partner_scope(admin))


def get_administrator_for(admin: Actor, pk: Any) -> Administrator:
    try:
        return administrators_visible_to(admin).get(pk=lookup_id(pk))
    except (Administrator.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such administrator.")) from None
