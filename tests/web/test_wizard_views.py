"""Update UC Tenants wizard: preview writes nothing, confirm creates, errors change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from ucfleet.tenants.models import Tenant
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def _post(client, **fields):
    data = {"timing": "immediate", "task_type": "update", "action": "preview", **fields}
    return client.post("/updates/new/", data)


def test_wizard_offers_the_manuals_timings_and_options(platform_client, a_tenants):
    page = platform_client.get("/updates/new/").content.decode()
    for label in (
        "Immediately",
        "Maintenance window (server time)",
        "Custom time",
        "Target software version",
        "Forced update",
        "Redeployment",
        "Send E-mail",
        "Send e-mail (customer)",
        "Select all",
        "Deselect all",
        "server time",
    ):
        assert label in page


def test_partner_admin_is_not_offered_forced_update_or_test_versions(
    partner_client, a_tenants, versions
):
    page = partner_client.get("/updates/new/").content.decode()
    assert 'name="forced"' not in page
    assert versions["test"].name not in page
    assert versions["prohibited"].name not in page


def test_preview_lists_tenants_and_writes_nothing(partner_client, a_tenants, partner_a, versions):
    response = _post(partner_client, partners=[partner_a.pk], target_version=versions["new"].pk)
    page = response.content.decode()
    assert 'data-testid="preview-result"' in page
    assert all(t.name in page for t in a_tenants)
    assert "3 tasks will be created" in page
    assert not UpdateTask.objects.exists()


def test_confirm_creates_one_task_per_tenant_and_goes_to_the_task_list(
    partner_client, a_tenants, partner_a, versions, sunday_window
):
    response = _post(
        partner_client,
        partners=[partner_a.pk],
        target_version=versions["new"].pk,
        timing="maintenance_window",
        notify_partner="on",
        action="confirm",
    )
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    tasks = UpdateTask.objects.all()
    assert tasks.count() == 3
    assert all(t.timing == "maintenance_window" and t.notify_partner for t in tasks)
    assert "3 update tasks were created." in partner_client.get("/tasks/").content.decode()


def test_htmx_confirm_answers_with_a_redirect_header(partner_client, a_tenants, versions):
    response = partner_client.post(
        "/updates/new/",
        {
            "timing": "immediate",
            "task_type": "update",
            "action": "confirm",
            "tenants": [a_tenants[0].pk],
            "target_version": versions["new"].pk,
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and response["HX-Redirect"] == "/tasks/"


def test_custom_time_without_date_is_a_field_error(partner_client, a_tenants, versions):
    response = _post(
        partner_client,
        tenants=[a_tenants[0].pk],
        timing="custom",
        target_version=versions["new"].pk,
        action="confirm",
    )
    assert response.status_code == 200
    assert "Choose the date and time for Custom time." in response.content.decode()
    assert not UpdateTask.objects.exists()


def test_custom_time_in_the_past_is_refused_by_the_service(partner_client, a_tenants, versions):
    past = timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = _post(
        partner_client,
        tenants=[a_tenants[0].pk],
        timing="custom",
        start=past,
        target_version=versions["new"].pk,
        action="confirm",
    )
    assert "The time must lie in the future." in response.content.decode()
    assert not UpdateTask.objects.exists()


def test_custom_time_is_read_in_server_time(platform_client, a_tenants, versions, sunday_window):
    response = _post(
        platform_client,
        tenants=[a_tenants[0].pk],
        timing="custom",
        start="2031-03-04T22:00",
        target_version=versions["new"].pk,
        action="confirm",
    )
    assert response.status_code == 302
    task = UpdateTask.objects.get()
    # Europe/Berlin is UTC+1 in March before the switch.
    assert task.earliest_start.isoformat() == "2031-03-04T21:00:00+00:00"


def test_nothing_selected_is_an_error(partner_client, a_tenants, versions):
    response = _post(partner_client, target_version=versions["new"].pk)
    assert "Select at least one UC tenant." in response.content.decode()


def test_foreign_tenant_id_creates_nothing(partner_client, a_tenants, b_tenants, versions):
    response = _post(
        partner_client,
        tenants=[a_tenants[0].pk, b_tenants[0].pk],
        target_version=versions["new"].pk,
        action="confirm",
    )
    assert response.status_code == 200
    assert not UpdateTask.objects.exists()


def test_forced_posted_by_a_partner_admin_is_not_honoured(partner_client, a_tenants, versions):
    _post(
        partner_client,
        tenants=[a_tenants[0].pk],
        target_version=versions["new"].pk,
        forced="on",
        action="confirm",
    )
    assert UpdateTask.objects.get().is_forced is False


def test_downgrade_needs_the_confirmation_of_the_manual(partner_client, a_tenants, versions):
    response = _post(
        partner_client, tenants=[t.pk for t in a_tenants], target_version=versions["old"].pk
    )
    page = response.content.decode()
    assert "Compatibility with older versions cannot be guaranteed." in page
    assert 'data-testid="confirm-downgrade"' in page
    assert "0 tasks will be created" in page
    response = _post(
        partner_client,
        tenants=[t.pk for t in a_tenants],
        target_version=versions["old"].pk,
        confirm_downgrade="on",
        action="confirm",
    )
    assert response.status_code == 302
    assert UpdateTask.objects.filter(target_version=versions["old"]).count() == 3


def test_preview_reports_skipped_tenants_with_reasons(
    partner_client, a_tenants, versions, schedule
):
    schedule([a_tenants[0]])
    Tenant.objects.filter(pk=a_tenants[1].pk).update(auto_update_allowed=False)
    page = _post(
        partner_client, tenants=[t.pk for t in a_tenants], target_version=versions["new"].pk
    ).content.decode()
    assert "The UC tenant already has an open update task." in page
    assert "Automatic update is not allowed for this UC tenant" in page
    assert "1 task will be created" in page


def test_single_tenant_with_auto_update_off_after_confirmation(partner_client, a_tenants, versions):
    Tenant.objects.filter(pk=a_tenants[0].pk).update(auto_update_allowed=False)
    page = _post(
        partner_client, tenants=[a_tenants[0].pk], target_version=versions["new"].pk
    ).content.decode()
    assert 'data-testid="auto-update-warning"' in page
    _post(
        partner_client,
        tenants=[a_tenants[0].pk],
        target_version=versions["new"].pk,
        confirm_auto_update_disabled="on",
        action="confirm",
    )
    assert UpdateTask.objects.filter(tenant=a_tenants[0]).exists()


def test_maintenance_window_timing_without_a_window_is_explained(
    partner_client, a_tenants, versions
):
    page = _post(
        partner_client,
        tenants=[a_tenants[0].pk],
        timing="maintenance_window",
        target_version=versions["new"].pk,
    ).content.decode()
    assert "The maintenance window has no occurrence" in page


def test_preset_from_tenant_page_selects_that_tenant(partner_client, a_tenants):
    page = partner_client.get(f"/updates/new/?tenant={a_tenants[1].pk}").content.decode()
    checked = set(re.findall(r'name="tenants" value="(\d+)"[^>]*checked', page))
    assert checked == {str(a_tenants[1].pk)}


def test_preset_with_a_foreign_tenant_answers_404(partner_client, b_tenants):
    assert partner_client.get(f"/updates/new/?tenant={b_tenants[0].pk}").status_code == 404


def test_partner_group_lists_tenants_on_demand_and_only_visible_ones(
    partner_client, platform_client, a_tenants, partner_a, partner_b
):
    page = platform_client.get(f"/updates/new/partners/{partner_a.pk}/").content.decode()
    assert all(t.name in page for t in a_tenants)
    assert partner_client.get(f"/updates/new/partners/{partner_b.pk}/").status_code == 404


def test_platform_admin_selecting_every_partner_updates_the_whole_platform(
    platform_client, a_tenants, b_tenants, partner_a, partner_b, versions
):
    _post(
        platform_client,
        partners=[partner_a.pk, partner_b.pk],
        target_version=versions["new"].pk,
        action="confirm",
    )
    assert UpdateTask.objects.count() == 5
