"""R19: tenants.filtering — what a filter selects, always inside the actor's scope (R1)."""

from __future__ import annotations

import pytest

from tests.factories import ScaleUnitFactory, TenantFactory
from ucfleet.core.errors import Invalid, NotFound
from ucfleet.tenants.filtering import TenantFilter, filter_tenants
from ucfleet.updates.choices import SkipReason
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import ScheduleRequest, plan_updates
from ucfleet.updates.services import schedule_updates

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(partner_a, partner_b, versions):
    """Partner A on two units (one shared with B), with every flag; B on its own unit too."""
    shared, own_a, own_b = (ScaleUnitFactory(name=n) for n in ("shared-1", "a-only", "b-only"))
    a = {
        "prod": TenantFactory(
            name="acme-prod", partner=partner_a, version=versions["current"], scale_unit=shared
        ),
        "test": TenantFactory(
            name="acme-test",
            partner=partner_a,
            version=versions["old"],
            scale_unit=own_a,
            is_productive=False,
            is_test=True,
        ),
        "nfr": TenantFactory(
            name="zeta-nfr",
            partner=partner_a,
            version=versions["current"],
            scale_unit=own_a,
            is_productive=False,
            is_nfr=True,
            customer_id="CUST-77",
        ),
    }
    b = {
        "prod": TenantFactory(
            name="acme-b", partner=partner_b, version=versions["current"], scale_unit=shared
        ),
        "other": TenantFactory(
            name="beta-b", partner=partner_b, version=versions["old"], scale_unit=own_b
        ),
    }
    return {"a": a, "b": b, "units": {"shared": shared, "a": own_a, "b": own_b}}


def names(actor, f):
    return set(filter_tenants(actor, f).values_list("name", flat=True))


def test_each_criterion_narrows_and_they_combine(platform_admin, fleet, partner_a, versions):
    units = fleet["units"]
    assert names(platform_admin, TenantFilter()) == {
        "acme-prod",
        "acme-test",
        "zeta-nfr",
        "acme-b",
        "beta-b",
    }
    assert names(platform_admin, TenantFilter.of(partner_ids=[partner_a.pk])) == {
        "acme-prod",
        "acme-test",
        "zeta-nfr",
    }
    assert names(platform_admin, TenantFilter.of(versions=["14.8"])) == {"acme-test", "beta-b"}
    assert names(platform_admin, TenantFilter.of(versions=[versions["old"].pk, "14.9"])) == {
        "acme-prod",
        "acme-test",
        "zeta-nfr",
        "acme-b",
        "beta-b",
    }
    assert names(platform_admin, TenantFilter.of(scale_unit_ids=[units["shared"].pk])) == {
        "acme-prod",
        "acme-b",
    }
    assert names(platform_admin, TenantFilter.of(is_test=True)) == {"acme-test"}
    assert names(platform_admin, TenantFilter.of(is_nfr=True)) == {"zeta-nfr"}
    assert names(platform_admin, TenantFilter.of(is_productive=False)) == {"acme-test", "zeta-nfr"}
    assert names(platform_admin, TenantFilter.of(search="ACME")) == {
        "acme-prod",
        "acme-test",
        "acme-b",
    }
    assert names(platform_admin, TenantFilter.of(search="cust-77")) == {"zeta-nfr"}
    both = TenantFilter.of(
        search="acme",
        scale_unit_ids=[units["shared"].pk],
        is_productive=True,
        partner_ids=[partner_a.pk],
    )
    assert names(platform_admin, both) == {"acme-prod"}


def test_a_partner_administrator_filters_only_its_own_tenants(partner_admin, fleet):
    assert names(partner_admin, TenantFilter()) == {"acme-prod", "acme-test", "zeta-nfr"}
    assert names(partner_admin, TenantFilter.of(search="acme")) == {"acme-prod", "acme-test"}
    shared = fleet["units"]["shared"].pk
    assert names(partner_admin, TenantFilter.of(scale_unit_ids=[shared])) == {"acme-prod"}


@pytest.mark.parametrize(
    "make",
    [
        lambda fleet, b: TenantFilter.of(partner_ids=[b.pk]),
        lambda fleet, b: TenantFilter.of(scale_unit_ids=[fleet["units"]["b"].pk]),
        lambda fleet, b: TenantFilter.of(scale_unit_ids=[999_999]),
        lambda fleet, b: TenantFilter.of(versions=["99.99"]),
        lambda fleet, b: TenantFilter.of(versions=["15.0"]),  # a test version: platform only
    ],
    ids=["foreign-partner", "foreign-unit", "unknown-unit", "unknown-version", "test-version"],
)
def test_naming_what_the_partner_cannot_see_is_not_found(partner_admin, fleet, partner_b, make):
    with pytest.raises(NotFound):
        filter_tenants(partner_admin, make(fleet, partner_b))


def test_the_filter_keeps_its_criteria_in_api_names():
    f = TenantFilter.of(partner_ids=[4, 4], versions=["14.7", 9], is_test=False, search=" acme ")
    assert f.as_json() == {
        "partner": [4],
        "version": ["14.7", 9],
        "is_test": False,
        "search": "acme",
    }
    assert TenantFilter.of().is_empty() and not f.is_empty()


def _request(f, versions, **options):
    return ScheduleRequest(
        timing="immediate", target_version=versions["new"].pk, filter=f, **options
    )


def test_planning_selects_exactly_the_filtered_tenants(platform_admin, fleet, versions):
    f = TenantFilter.of(search="acme")
    plan = plan_updates(platform_admin, _request(f, versions))
    selected = {p.tenant_id for p in plan.planned} | {s.tenant_id for s in plan.skipped}
    assert selected == set(filter_tenants(platform_admin, f).values_list("id", flat=True))
    assert {p.tenant_name for p in plan.planned} == {"acme-prod", "acme-test", "acme-b"}


def test_a_filter_is_a_bulk_selection(platform_admin, fleet, versions):
    """R6: auto-update-off tenants are left out even when the filter matches only one."""
    fleet["a"]["nfr"].auto_update_allowed = False
    fleet["a"]["nfr"].save()
    plan = plan_updates(
        platform_admin,
        _request(TenantFilter.of(is_nfr=True), versions, confirm_auto_update_disabled=True),
    )
    assert [s.reason for s in plan.skipped] == [SkipReason.AUTO_UPDATE_DISABLED]


def test_an_empty_filter_selection_is_refused_naming_the_filter(partner_admin, fleet, versions):
    with pytest.raises(Invalid) as caught:
        schedule_updates(partner_admin, _request(TenantFilter.of(search="beta"), versions))
    assert caught.value.code == "filter_matched_none"
    assert set(caught.value.errors) == {"filter"}
    assert not UpdateTask.objects.exists()


def test_a_foreign_filter_creates_nothing(partner_admin, fleet, partner_b, versions):
    with pytest.raises(NotFound):
        schedule_updates(
            partner_admin, _request(TenantFilter.of(partner_ids=[partner_b.pk]), versions)
        )
    assert not UpdateTask.objects.exists()


def test_a_filter_with_another_selection_is_refused(platform_admin, fleet, versions):
    request = _request(TenantFilter.of(search="acme"), versions)
    request.tenant_ids = [fleet["a"]["prod"].pk]
    with pytest.raises(Invalid) as caught:
        plan_updates(platform_admin, request)
    assert "tenants" in caught.value.errors
