"""The wizard's picker filter, "select all N matching" and the rollout options in a real
browser (R19–R21), in English and German, with screenshots."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ScaleUnitFactory, TenantFactory
from ucfleet.updates.models import UpdateTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "count": "62 UC tenants match the filter",
        "select": "Select all 62 matching",
        "created": "62 tasks will be created",
        "waves": "1 % / 10 % / rest",
    },
    "de": {
        "count": "62 UC-Tenants entsprechen dem Filter",
        "select": "Alle 62 passenden",
        "created": "62 Aufgaben werden angelegt",
        "waves": "1 % / 10 % / Rest",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_filter_select_all_matching_and_rollout_options(
    page, live_server, login, screenshot, platform_admin, partner_a, partner_b, versions, language
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    unit = ScaleUnitFactory(name="ams-1")
    TenantFactory.create_batch(62, partner=partner_a, version=versions["current"], scale_unit=unit)
    TenantFactory.create_batch(5, partner=partner_a, version=versions["current"])
    TenantFactory.create_batch(4, partner=partner_b, version=versions["current"], scale_unit=unit)
    text = TEXT[language]

    login(platform_admin.username)
    page.goto(f"{live_server.url}/updates/new/")
    page.get_by_test_id("timing").locator("input[value=immediate]").check()
    picker = page.get_by_test_id("tenant-filter")
    picker.locator("select[name=f_partner]").select_option(str(partner_a.pk))
    picker.locator("select[name=f_scale_unit]").select_option(str(unit.pk))
    matching = page.get_by_test_id("matching")
    expect(matching.get_by_test_id("matching-count")).to_have_text(text["count"])
    expect(matching.locator("input[name=tenants]")).to_have_count(50)  # one page to tick
    matching.get_by_test_id("select-matching").check()
    expect(matching).to_contain_text(text["select"])
    screenshot(f"wizard-filter-select-matching-{language}")

    page.locator("#id_waves").fill("1%, 10%, rest")
    page.locator("#id_soak_minutes").fill("15")
    page.locator("#id_error_budget").fill("2%")
    page.get_by_test_id("preview").click()
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_contain_text(text["created"])
    expect(page.get_by_test_id("preview-by-filter")).to_be_visible()
    expect(page.get_by_test_id("preview-waves")).to_contain_text(text["waves"])
    expect(page.get_by_test_id("preview-budget")).to_contain_text("2 %")
    expect(page.get_by_test_id("preview-days").get_by_test_id("day-count")).to_have_text("62")
    page.get_by_test_id("rollout-options").scroll_into_view_if_needed()
    screenshot(f"wizard-rollout-preview-{language}")
    assert not UpdateTask.objects.exists()

    page.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r".*/tasks/.*"))
    tasks = UpdateTask.objects.all()
    assert tasks.count() == 62  # all 62 matching, not the 50 shown; nobody of partner B
    assert set(tasks.values_list("partner_id", flat=True)) == {partner_a.pk}


def test_bad_rollout_options_show_form_errors(
    page, live_server, login, screenshot, partner_admin, a_tenants, versions
):
    login(partner_admin.username)
    page.goto(f"{live_server.url}/updates/new/")
    page.get_by_test_id("timing").locator("input[value=immediate]").check()
    page.get_by_test_id("tenant-filter").locator("input[name=f_search]").fill("tenant")
    page.get_by_test_id("select-matching").check()
    page.locator("#id_waves").fill("10%, rest, 5")
    page.locator("#id_error_budget").fill("lots")
    page.get_by_test_id("preview").click()
    expect(page.get_by_test_id("wizard-errors")).to_be_visible()
    expect(page.get_by_test_id("errors-waves")).not_to_be_empty()
    expect(page.get_by_test_id("errors-error_budget")).not_to_be_empty()
    screenshot("wizard-rollout-errors-en")
    assert not UpdateTask.objects.exists()
