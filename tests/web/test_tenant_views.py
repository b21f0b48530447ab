"""UC Tenants list and tenant page: scope (R1), markers (R10), general settings (§8.5)."""

from __future__ import annotations

import pytest

from tests.factories import TenantFactory
from ucfleet.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_partner_admin_sees_only_its_own_partners_tenants(partner_client, a_tenants, b_tenants):
    page = partner_client.get("/tenants/").content.decode()
    for tenant in a_tenants:
        assert tenant.name in page
    for tenant in b_tenants:
        assert tenant.name not in page


def test_forged_partner_filter_yields_nothing_foreign(
    partner_client, a_tenants, b_tenants, partner_b
):
    page = partner_client.get(f"/tenants/?partner={partner_b.pk}").content.decode()
    assert all(t.name not in page for t in b_tenants)


def test_foreign_tenant_page_answers_404(partner_client, b_tenants):
    assert partner_client.get(f"/tenants/{b_tenants[0].pk}/").status_code == 404


def test_search_and_filters_narrow_the_list(platform_client, a_tenants, b_tenants, versions):
    target = a_tenants[1]
    page = platform_client.get(f"/tenants/?q={target.name}").content.decode()
    assert target.name in page and a_tenants[0].name not in page
    Tenant.objects.filter(pk=a_tenants[0].pk).update(version=versions["new"])
    page = platform_client.get(f"/tenants/?version={versions['new'].pk}").content.decode()
    assert a_tenants[0].name in page and a_tenants[2].name not in page


def test_markers_show_scheduled_recommended_and_auto_update_off(
    platform_client, a_tenants, versions, schedule
):
    scheduled, recommended, auto_off = a_tenants
    schedule([scheduled])
    Tenant.objects.filter(pk=recommended.pk).update(version=versions["new"])
    Tenant.objects.filter(pk=auto_off.pk).update(auto_update_allowed=False)
    page = platform_client.get("/tenants/?marker=scheduled").content.decode()
    assert scheduled.name in page and recommended.name not in page
    assert 'aria-label="Update scheduled"' in page
    page = platform_client.get("/tenants/?marker=recommended").content.decode()
    assert recommended.name in page and 'aria-label="Update recommended"' in page
    page = platform_client.get("/tenants/?marker=auto_off").content.decode()
    assert auto_off.name in page and 'aria-label="Automatic update off"' in page


def test_tenant_page_saves_general_settings(partner_client, a_tenants):
    tenant = a_tenants[0]
    response = partner_client.post(
        f"/tenants/{tenant.pk}/",
        {
            "name": "renamed-tenant",
            "domain": tenant.domain,
            "notification_email": "ops@x.example",
            "is_active": "on",
            "is_productive": "on",
        },
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "renamed-tenant"
    assert tenant.notification_email == "ops@x.example"
    assert tenant.auto_update_allowed is False  # unchecked box


def test_tenant_page_shows_field_errors_and_changes_nothing(partner_client, a_tenants):
    tenant = a_tenants[0]
    response = partner_client.post(
        f"/tenants/{tenant.pk}/",
        {"name": "", "domain": tenant.domain, "notification_email": "not-an-address"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="error-name"' in page
    assert 'data-testid="error-notification_email"' in page
    tenant.refresh_from_db()
    assert tenant.name != "" and tenant.notification_email != "not-an-address"


def test_duplicate_domain_is_a_field_error_from_the_service(partner_client, a_tenants):
    first, second = a_tenants[0], a_tenants[1]
    response = partner_client.post(
        f"/tenants/{first.pk}/", {"name": first.name, "domain": second.domain}
    )
    assert response.status_code == 200
    assert 'data-testid="error-domain"' in response.content.decode()
    first.refresh_from_db()
    assert first.domain != second.domain


def test_partner_and_language_cannot_be_changed_through_the_form(
    platform_client, a_tenants, partner_b
):
    tenant = a_tenants[0]
    platform_client.post(
        f"/tenants/{tenant.pk}/",
        {"name": tenant.name, "domain": tenant.domain, "partner": partner_b.pk, "language": "de"},
    )
    tenant.refresh_from_db()
    assert tenant.partner_id != partner_b.pk and tenant.language == "en"


def test_partner_admin_cannot_move_a_tenant_to_another_scale_unit(
    partner_client, a_tenants, scale_unit
):
    from tests.factories import ScaleUnitFactory

    other = ScaleUnitFactory(name="ber-2")
    tenant = a_tenants[0]
    partner_client.post(
        f"/tenants/{tenant.pk}/",
        {"name": tenant.name, "domain": tenant.domain, "scale_unit": other.pk},
    )
    tenant.refresh_from_db()
    assert tenant.scale_unit_id == scale_unit.pk


def test_partner_admin_creates_a_tenant_of_its_own_partner(
    partner_client, partner_a, partner_b, versions
):
    response = partner_client.post(
        "/tenants/new/",
        {
            "name": "new-customer",
            "domain": "new.uc.example",
            "partner": partner_a.pk,
            "language": "de",
            "version": versions["current"].pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(name="new-customer")
    assert tenant.partner_id == partner_a.pk and tenant.language == "de"


def test_partner_admin_cannot_create_a_tenant_for_a_foreign_partner(
    partner_client, partner_b, versions
):
    response = partner_client.post(
        "/tenants/new/",
        {
            "name": "sneaky",
            "domain": "sneaky.uc.example",
            "partner": partner_b.pk,
            "language": "en",
            "version": versions["current"].pk,
        },
    )
    assert response.status_code == 200  # the foreign partner is not a choice: a field error
    assert not Tenant.objects.filter(name="sneaky").exists()


def test_tenant_list_paginates(platform_client, partner_a, versions):
    TenantFactory.create_batch(60, partner=partner_a, version=versions["current"])
    page1 = platform_client.get("/tenants/").content.decode()
    assert "Page 1 of 2" in page1
    page2 = platform_client.get("/tenants/?page=2").content.decode()
    assert "Page 2 of 2" in page2


def test_htmx_request_gets_only_the_list_fragment(platform_client, a_tenants):
    response = platform_client.get("/tenants/?q=tenant", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<html" not in page and 'data-testid="tenant-table"' in page
    assert "HX-Request" in response["Vary"]


def test_a_tenant_filter_that_cannot_be_applied_lists_none_and_says_why(
    platform_client, a_tenants, b_tenants
):
    page = platform_client.get("/tenants/?version=999999&marker=bogus")
    assert page.status_code == 200 and list(page.context["tenants"]) == []
    html = page.content.decode()
    assert 'data-testid="filter-errors"' in html
    assert "These filters cannot be applied; no UC tenants are listed." in html
    assert 'data-testid="filter-errors"' not in platform_client.get("/tenants/").content.decode()
