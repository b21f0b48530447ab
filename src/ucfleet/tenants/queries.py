"""The access chokepoint for partners, scale units and tenants (R1).

Every read of these goes through a function here that takes the acting administrator. A
partner administrator's querysets contain only its own partner's rows, so a foreign id is
simply "not found" (404), never "forbidden".
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.core.errors import NotFound
from ucfleet.core.ids import parse_id
from ucfleet.core.subquery import SubqueryCount
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant


def _pk(value: Any) -> int:
    pk = parse_id(value)
    if pk is None:
        raise NotFound(_("Not found."))
    return pk


def partners_visible_to(admin: Actor) -> QuerySet[Partner]:
    partners = Partner.objects.all()
    if admin.is_platform_admin:
        return partners
    return partners.filter(pk=partner_scope(admin))


def partners_with_tenant_counts(admin: Actor) -> QuerySet[Partner]:
    """Each partner's tenants counted for the partners read (core.subquery), not grouped
    over every tenant."""
    tenants = Tenant.objects.filter(partner=OuterRef("pk"))
    return partners_visible_to(admin).annotate(tenant_count=SubqueryCount(tenants))


def partners_with_counts(admin: Actor) -> QuerySet[Partner]:
    """The partner list: tenants and administrators of each partner."""
    from ucfleet.accounts.models import Administrator

    admins = Administrator.objects.filter(partner=OuterRef("pk"))
    return partners_with_tenant_counts(admin).annotate(admin_count=SubqueryCount(admins))


def get_partner_for(admin: Actor, pk: Any) -> Partner:
    try:
        return partners_visible_to(admin).get(pk=_pk(pk))
    except Partner.DoesNotExist:
        raise NotFound(_("No such partner.")) from None


def scale_units_visible_to(admin: Actor) -> QuerySet[ScaleUnit]:
    """Scale units are platform infrastructure; partner administrators see those their
    tenants run on."""
    units = ScaleUnit.objects.all()
    if admin.is_platform_admin:
        return units
    # EXISTS per unit (index tenant_unit_partner), not DISTINCT over the partner's tenants.
    runs_here = Tenant.objects.filter(scale_unit=OuterRef("pk"), partner_id=partner_scope(admin))
    return units.filter(Exists(runs_here))


def scale_units_with_counts(admin: Actor) -> QuerySet[ScaleUnit]:
    """The scale-unit list: the tenants on each unit and their running updates, of the
    caller's scope (R1: a partner counts its own)."""
    from ucfleet.updates.choices import Status
    from ucfleet.updates.models import UpdateTask

    tenants = Tenant.objects.filter(scale_unit=OuterRef("pk"))
    running = UpdateTask.objects.filter(
        tenant__scale_unit=OuterRef("pk"), status=Status.IN_PROGRESS
    )
    if not admin.is_platform_admin:
        tenants = tenants.filter(partner_id=partner_scope(admin))
        running = running.filter(tenant__partner_id=partner_scope(admin))
    return scale_units_visible_to(admin).annotate(
        tenant_count=SubqueryCount(tenants), running=SubqueryCount(running)
    )


def tenants_visible_to(admin: Actor) -> QuerySet[Tenant]:
    tenants = Tenant.objects.all()
    if admin.is_platform_admin:
        return tenants
    return tenants.filter(partner_id=partner_scope(admin))


def get_tenant_for(admin: Actor, pk: Any) -> Tenant:
    try:
        return tenants_visible_to(admin).get(pk=_pk(pk))
    except Tenant.DoesNotExist:
        raise NotFound(_("No such UC tenant.")) from None


def with_markers(tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    """The R10 markers in the same query: `update_scheduled` (an open task) annotated,
    `update_recommended` read from the selected version (`version.recommend_update`; an
    annotation of it would join the versions into every count of the list)."""
    from ucfleet.updates.choices import OPEN_STATUSES
    from ucfleet.updates.models import UpdateTask

    open_task = UpdateTask.objects.filter(tenant=OuterRef("pk"), status__in=OPEN_STATUSES)
    return tenants.annotate(update_scheduled=Exists(open_task)).select_related(
        "partner", "version", "scale_unit"
    )
