"""Which tenants a portal selection means (manual §8.14): single tenants and/or whole
partners, the whole platform, or every tenant matching a filter (R19, "select all N
matching"). The wizard form only collects the ticks and the filter; this decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.core.errors import NotFound
from ucfleet.tenants.filtering import TenantFilter
from ucfleet.tenants.queries import partners_visible_to, tenants_visible_to


@dataclass(frozen=True)
class Selection:
    """The selection fields of a ScheduleRequest: exactly one of them is set."""

    tenant_ids: list[int] | None = None
    partner_id: int | None = None
    all_tenants: bool = False
    # R19: every tenant matching this filter (tenants.filtering), however many.
    filter: TenantFilter | None = None
    # The selection includes whole partners: the single-tenant rules (the confirmation of a
    # tenant without automatic updates, R5) do not apply even if it names one tenant.
    includes_partners: bool = False

    def request_fields(self) -> dict[str, Any]:
        return {
            "tenant_ids": self.tenant_ids,
            "partner_id": self.partner_id,
            "all_tenants": self.all_tenants,
            "filter": self.filter,
            "includes_partners": self.includes_partners,
        }


def select_tenants(
    admin: Actor,
    *,
    tenant_ids: list[int],
    partner_ids: list[int],
    all_tenants: bool,
    matching: TenantFilter | None = None,
) -> Selection:
    """Single tenants plus every tenant of `partner_ids`, as the request planning expects;
    or, with `matching` ("select all N matching"), the filter itself: the request carries
    the filter, not the ids, and planning selects what it matches then (R19).

    A platform administrator who ticks every partner (of several) means the whole platform;
    one partner alone stays a partner request; anything else becomes the tenants' ids. A
    partner the administrator cannot see answers NotFound (R1)."""
    if matching is not None:
        return Selection(filter=matching)
    if all_tenants:
        return Selection(all_tenants=True)
    if not partner_ids:
        return Selection(tenant_ids=sorted(set(tenant_ids)))
    visible = set(partners_visible_to(admin).values_list("id", flat=True))
    wanted = set(partner_ids)
    if not wanted <= visible:
        raise NotFound(_("No such partner."))
    if admin.is_platform_admin and wanted == visible and len(visible) > 1:
        return Selection(all_tenants=True)
    if len(wanted) == 1 and not tenant_ids:
        return Selection(partner_id=next(iter(wanted)))
    whole = tenants_visible_to(admin).filter(partner_id__in=wanted).values_list("id", flat=True)
    return Selection(tenant_ids=sorted(set(tenant_ids) | set(whole)), includes_partners=True)
