"""updates.selection: which tenants the portal's ticks mean (single tenants, whole partners,
the platform), decided in the domain instead of the wizard form."""

from __future__ import annotations

import pytest

from tests.factories import PartnerFactory, TenantFactory
from ucfleet.core.errors import NotFound
from ucfleet.updates.choices import SkipReason
from ucfleet.updates.selection import select_tenants
from ucfleet.updates.services import ScheduleRequest, preview_updates

pytestmark = pytest.mark.django_db


def test_every_partner_ticked_by_a_platform_admin_is_the_whole_platform(
    platform_admin, partner_a, partner_b
):
    selection = select_tenants(
        platform_admin, tenant_ids=[], partner_ids=[partner_a.pk, partner_b.pk], all_tenants=False
    )
    assert selection.all_tenants


def test_one_partner_alone_stays_a_partner_request(partner_admin, partner_a, a_tenants):
    selection = select_tenants(
        partner_admin, tenant_ids=[], partner_ids=[partner_a.pk], all_tenants=False
    )
    assert selection.partner_id == partner_a.pk and selection.tenant_ids is None


def test_a_partner_and_single_tenants_become_ids_that_include_a_partner(
    platform_admin, partner_a, a_tenants, b_tenants
):
    selection = select_tenants(
        platform_admin,
        tenant_ids=[b_tenants[0].pk],
        partner_ids=[partner_a.pk],
        all_tenants=False,
    )
    assert selection.tenant_ids == sorted([b_tenants[0].pk, *(t.pk for t in a_tenants)])
    assert selection.includes_partners


def test_a_foreign_partner_is_not_found(partner_admin, partner_a, partner_b):
    with pytest.raises(NotFound):
        select_tenants(
            partner_admin,
            tenant_ids=[],
            partner_ids=[partner_a.pk, partner_b.pk],
            all_tenants=False,
        )


def test_a_whole_partner_of_one_tenant_is_not_a_single_tenant_request(platform_admin, versions):
    """The confirmation for a tenant without automatic updates (R5) is for one tenant chosen
    by itself; a ticked partner that happens to hold one tenant does not get it."""
    lone = PartnerFactory()
    tenant = TenantFactory(partner=lone, version=versions["current"], auto_update_allowed=False)
    other = TenantFactory(version=versions["current"])
    selection = select_tenants(
        platform_admin, tenant_ids=[tenant.pk], partner_ids=[lone.pk], all_tenants=False
    )
    assert selection.tenant_ids == [tenant.pk]
    plan = preview_updates(
        platform_admin,
        ScheduleRequest(
            timing="immediate",
            target_version=versions["new"].pk,
            confirm_auto_update_disabled=True,
            **selection.request_fields(),
        ),
    )
    assert [s.reason for s in plan.skipped] == [SkipReason.AUTO_UPDATE_DISABLED]
    assert other.pk not in {p.tenant_id for p in plan.planned}
