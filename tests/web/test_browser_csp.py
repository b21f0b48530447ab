"""The Content-Security-Policy holds in a real browser: a platform administrator goes through
the main pages, their htmx updates and the API docs, and no page reports a violation (the
`securitypolicyviolation` event, console errors and page errors are all watched)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.test_browser_portal import TOUR
from ucfleet.maintenance.models import PlatformMaintenance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
    (e.sourceFile || location.pathname) + ":" + e.lineNumber);
});
"""


def test_main_pages_run_without_a_csp_violation(page, live_server, login):
    from ucfleet.demo import DEMO_PASSWORD, seed_demo
    from ucfleet.tenants.models import Tenant

    seed_demo()
    problems: list[str] = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )

    def violations() -> list[str]:
        return page.evaluate("window.__cspViolations || []")

    seen: list[str] = []
    login("platform", DEMO_PASSWORD)
    seen += violations()
    tenant = Tenant.objects.order_by("name").first()
    maintenance = PlatformMaintenance.objects.first()
    urls = [url for url, _ in TOUR] + [
        f"/tenants/{tenant.pk}/",
        f"/maintenance/{maintenance.pk}/",
        "/administrators/new/",
    ]
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        expect(page.locator("main h1")).to_be_visible()
        seen += violations()

    # htmx at work: a filtered list, a flag saved in place, a dialog, the window preview.
    page.goto(f"{live_server.url}/change-log/")
    page.locator("input[name=user]").fill("platform")
    page.locator("input[name=user]").press("Enter")
    expect(page).to_have_url(re.compile(r"user=platform"))
    expect(page.get_by_test_id("csv-export")).to_have_attribute(
        "href", re.compile(r"^\?.*user=platform.*&format=csv$")
    )
    seen += violations()
    page.goto(f"{live_server.url}/versions/")
    row = page.locator("tr[data-version='14.9']")
    row.get_by_label("Recommend update").check()
    expect(row.get_by_test_id("saved")).to_be_visible()
    seen += violations()
    page.goto(f"{live_server.url}/outbox/")
    page.get_by_role("link", name="Show").first.click()
    expect(page.locator("dialog#modal pre.log")).to_be_visible()
    seen += violations()
    page.goto(f"{live_server.url}/maintenance-window/")
    page.get_by_test_id("slot").first.get_by_label("Wed").check()
    expect(page.get_by_test_id("window-preview")).to_contain_text("not saved yet")
    seen += violations()
    # The language switch sends its form from portal.js (no inline handler).
    page.get_by_test_id("language-switch").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    seen += violations()
    # The API's docs load Swagger UI from files only.
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title").first).to_be_visible()
    seen += violations()

    assert seen == []
    assert problems == []
