"""Reads of software versions, scoped: test versions exist only for platform administrators."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor, partner_scope
from ucfleet.core.errors import NotFound
from ucfleet.core.ids import parse_id
from ucfleet.core.subquery import SubqueryCount
from ucfleet.versions.models import SoftwareVersion


def versions_visible_to(admin: Actor) -> QuerySet[SoftwareVersion]:
    versions = SoftwareVersion.objects.all()
    if admin.is_platform_admin:
        return versions
    return versions.filter(for_testing=False)


def versions_with_tenant_counts(admin: Actor) -> QuerySet[SoftwareVersion]:
    """The version list shows how many tenants run each version — of the caller's scope,
    counted per version on the index `tenant_version_partner` (core.subquery)."""
    from ucfleet.tenants.models import Tenant

    tenants = Tenant.objects.filter(version=OuterRef("pk"))
    if not admin.is_platform_admin:
        tenants = tenants.filter(partner_id=partner_scope(admin))
    return versions_visible_to(admin).annotate(tenant_count=SubqueryCount(tenants))


def _find(versions: QuerySet[SoftwareVersion], ref: Any) -> SoftwareVersion:
    match = versions.filter(name=ref).first() if isinstance(ref, str) else None
    if match is None and (pk := parse_id(ref)) is not None:
        match = versions.filter(pk=pk).first()
    if match is None:
        raise NotFound(_("No such software version."))
    return match


def get_version_for(admin: Actor, ref: Any) -> SoftwareVersion:
    """A version the admin may see, by name or by id (a name wins over an equal id)."""
    return _find(versions_visible_to(admin), ref)
