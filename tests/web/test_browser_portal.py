"""Login and platform maintenance, the German interface, and a tour of every screen with the
demo data (screenshots for reviewers; no page may log a script error)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.versions.models import SoftwareVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page_announces_maintenance_and_turns_orange_while_it_runs(
    page, live_server, screenshot, platform_admin, partner_admin, login
):
    start = timezone.now() + timedelta(days=3)
    PlatformMaintenance.objects.create(
        start=start,
        end=start + timedelta(hours=4),
        message_en="Core network upgrade",
        message_de="Aktualisierung des Kernnetzes",
    )
    page.goto(f"{live_server.url}/login/")
    announcement = page.get_by_test_id("maintenance-announcement")
    expect(announcement).to_contain_text("Platform maintenance announced")
    expect(announcement).to_contain_text("Core network upgrade")
    expect(announcement.locator("time")).to_have_count(2)
    expect(page.get_by_test_id("titlebar")).not_to_have_class("titlebar titlebar--maintenance")
    screenshot("login-announcement")

    PlatformMaintenance.objects.update(start=timezone.now() - timedelta(minutes=5))
    page.reload()
    expect(page.get_by_test_id("titlebar")).to_have_class("titlebar titlebar--maintenance")
    expect(page.get_by_test_id("maintenance-announcement")).to_contain_text(
        "Platform maintenance in progress"
    )
    page.fill("input[name=username]", partner_admin.username)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("form[data-testid=login-form] button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_contain_text(
        "only platform administrators can log in"
    )
    screenshot("login-refused-during-maintenance")

    login(platform_admin.username)
    expect(page.get_by_test_id("maintenance-running")).to_be_visible()
    color = page.get_by_test_id("titlebar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(232, 89, 12)"  # orange
    screenshot("dashboard-during-maintenance")


def test_german_interface_by_browser_preference_and_per_administrator(
    browser, live_server, page, login, screenshot, partner_admin, a_tenants
):
    context = browser.new_context(locale="de-DE", viewport={"width": 1440, "height": 900})
    german_browser = context.new_page()
    german_browser.goto(f"{live_server.url}/login/")
    expect(german_browser.locator("html")).to_have_attribute("lang", "de")
    expect(german_browser.get_by_role("button", name="Anmelden")).to_be_visible()
    context.close()

    login(partner_admin.username)
    page.get_by_test_id("language-switch").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    page.get_by_role("link", name="UC-Tenants aktualisieren").first.click()
    expect(page.get_by_text("Wartungsfenster (Serverzeit)")).to_be_visible()
    expect(page.get_by_text("Sofort", exact=True)).to_be_visible()
    expect(page.get_by_text("Benutzerdefinierte Zeit", exact=True)).to_be_visible()
    screenshot("wizard-german")
    page.goto(f"{live_server.url}/tasks/")
    expect(page.get_by_test_id("breadcrumb")).to_have_text(
        "Plattform | UC-Tenant-Aufgaben | Aktualisierung"
    )
    screenshot("task-list-german")
    partner_admin.refresh_from_db()
    assert partner_admin.language == "de"


TOUR = [
    ("/", "dashboard"),
    ("/tenants/", "tenants"),
    ("/versions/", "versions"),
    ("/updates/new/", "wizard"),
    ("/tasks/", "tasks-update"),
    ("/tasks/all/", "tasks-all"),
    ("/maintenance/", "platform-maintenance"),
    ("/maintenance-window/", "maintenance-window"),
    ("/partners/", "partners"),
    ("/administrators/", "administrators"),
    ("/scale-units/", "scale-units"),
    ("/change-log/", "change-log"),
    ("/outbox/", "outbox"),
]


def test_tour_of_every_screen_with_the_demo_data(page, live_server, login, screenshot):
    from ucfleet.demo import DEMO_PASSWORD, seed_demo
    from ucfleet.tenants.models import Tenant

    seed_demo()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login("platform", DEMO_PASSWORD)
    for url, name in TOUR:
        page.goto(f"{live_server.url}{url}")
        expect(page.locator("main h1")).to_be_visible()
        screenshot(f"tour-{name}")
    tenant = Tenant.objects.order_by("name").first()
    page.goto(f"{live_server.url}/tenants/{tenant.pk}/")
    screenshot("tour-tenant-page")
    maintenance = PlatformMaintenance.objects.first()
    page.goto(f"{live_server.url}/maintenance/{maintenance.pk}/")
    screenshot("tour-maintenance-detail")
    # A flag of a software version is saved as soon as it is ticked.
    page.goto(f"{live_server.url}/versions/")
    row = page.locator("tr[data-version='14.9']")
    row.get_by_label("Recommend update").check()
    expect(row.get_by_test_id("saved")).to_be_visible()
    assert SoftwareVersion.objects.get(name="14.9").recommend_update
    # An e-mail of the outbox opens in the dialog.
    page.goto(f"{live_server.url}/outbox/")
    page.get_by_role("link", name="Show").first.click()
    expect(page.locator("dialog#modal pre.log")).to_be_visible()
    screenshot("tour-outbox-message")
    # The maintenance window preview follows the form before it is saved.
    page.goto(f"{live_server.url}/maintenance-window/")
    page.get_by_test_id("slot").first.get_by_label("Wed").check()
    expect(page.get_by_test_id("window-preview")).to_contain_text("Wed")
    expect(page.get_by_test_id("window-preview")).to_contain_text("not saved yet")
    assert errors == []
