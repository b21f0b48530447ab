"""R1 at the chokepoint and R10's markers, below any interface."""

from __future__ import annotations

import pytest

from tests.factories import TenantFactory, UpdateTaskFactory
from ucfleet.core.errors import Invalid, NotFound
from ucfleet.tenants.queries import (
    get_partner_for,
    get_tenant_for,
    partners_visible_to,
    tenants_visible_to,
    with_markers,
)
from ucfleet.tenants.services import create_tenant, update_tenant
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db


def test_partner_admin_sees_only_own_tenants_and_partner(
    partner_admin, platform_admin, a_tenants, b_tenants, partner_b
):
    assert set(tenants_visible_to(partner_admin)) == set(a_tenants)
    assert set(tenants_visible_to(platform_admin)) == set(a_tenants + b_tenants)
    assert list(partners_visible_to(partner_admin)) == [a_tenants[0].partner]
    with pytest.raises(NotFound):
        get_tenant_for(partner_admin, b_tenants[0].pk)
    with pytest.raises(NotFound):
        get_partner_for(partner_admin, partner_b.pk)
    assert get_tenant_for(platform_admin, b_tenants[0].pk) == b_tenants[0]


def test_markers_for_scheduled_and_recommended_updates(platform_admin, partner_a, versions):
    scheduled = TenantFactory(partner=partner_a, version=versions["current"])
    recommended = TenantFactory(partner=partner_a, version=versions["new"])
    done = TenantFactory(partner=partner_a, version=versions["current"])
    UpdateTaskFactory(tenant=scheduled, target_version=versions["new"])
    UpdateTaskFactory(tenant=done, target_version=versions["new"], status=Status.EXECUTED)
    rows = {t.pk: t for t in with_markers(tenants_visible_to(platform_admin))}
    assert rows[scheduled.pk].update_scheduled and not rows[scheduled.pk].version.recommend_update
    assert (
        not rows[recommended.pk].update_scheduled and rows[recommended.pk].version.recommend_update
    )
    assert not rows[done.pk].update_scheduled


def test_partner_admin_creates_tenants_only_for_own_partner(partner_admin, partner_b, versions):
    tenant = create_tenant(
        partner_admin,
        name="acme",
        domain="acme.uc.example",
        version=versions["current"].pk,
        language="de",
    )
    assert tenant.partner == partner_admin.partner
    with pytest.raises(NotFound):
        create_tenant(
            partner_admin,
            name="evil",
            domain="evil.uc.example",
            version=versions["current"].pk,
            partner=partner_b.pk,
        )


def test_partner_and_language_are_fixed_after_creation(platform_admin, a_tenants, partner_b):
    tenant = a_tenants[0]
    with pytest.raises(Invalid) as error:
        update_tenant(platform_admin, tenant.pk, partner=partner_b.pk)
    assert "partner" in error.value.errors
    with pytest.raises(Invalid):
        update_tenant(platform_admin, tenant.pk, language="de")
    updated = update_tenant(
        platform_admin,
        tenant.pk,
        description="moved to new PBX",
        language="en",
        partner=tenant.partner_id,
    )
    assert updated.description == "moved to new PBX"


def test_duplicate_name_is_a_field_error_and_changes_nothing(platform_admin, a_tenants):
    with pytest.raises(Invalid) as error:
        update_tenant(platform_admin, a_tenants[0].pk, name=a_tenants[1].name)
    assert "name" in error.value.errors
    a_tenants[0].refresh_from_db()
    assert a_tenants[0].name != a_tenants[1].name


def test_partner_admin_cannot_place_tenants_on_scale_units(
    partner_admin, platform_admin, a_tenants, versions
):
    from tests.factories import ScaleUnitFactory
    from ucfleet.core.errors import Forbidden

    other_unit = ScaleUnitFactory(name="secret-unit")
    tenant = a_tenants[0]
    with pytest.raises(Forbidden):
        update_tenant(partner_admin, tenant.pk, scale_unit=other_unit.pk)
    with pytest.raises(Forbidden):
        create_tenant(
            partner_admin,
            name="placed",
            domain="placed.uc.example",
            version=versions["current"].pk,
            scale_unit=other_unit.pk,
        )
    tenant.refresh_from_db()
    assert tenant.scale_unit_id != other_unit.pk
    # Sending the current placement back unchanged is fine (a form or PATCH echoing it).
    update_tenant(partner_admin, tenant.pk, scale_unit=tenant.scale_unit_id, description="x")
    assert (
        update_tenant(platform_admin, tenant.pk, scale_unit=other_unit.pk).scale_unit == other_unit
    )


def test_new_tenant_cannot_start_on_a_prohibited_version(partner_admin, versions):
    with pytest.raises(Invalid) as error:
        create_tenant(
            partner_admin, name="old", domain="old.uc.example", version=versions["prohibited"].pk
        )
    assert "version" in error.value.errors
