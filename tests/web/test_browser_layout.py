"""The portal at a laptop's 1280×800, in English and German: no main table is wider than
its card (a wider one is cut off or spills out: the tenant list's Marker column and its
"Update UC Tenant" action, the German task list's actions, the maintenance conflict table,
the tenant page's recent tasks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ucfleet.accounts.models import Administrator
from ucfleet.demo import DEMO_PASSWORD, seed_demo
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.tenants.models import Tenant
from ucfleet.updates.models import UpdateTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each table with the card (or card-styled wrapper) it sits in: how much wider it is.
OVERFLOW = """
() => Array.from(document.querySelectorAll("main table")).map(table => {
  const card = table.closest(".table-wrap, .card") || table.parentElement;
  return {
    table: table.dataset.testid || table.className,
    overflow: Math.ceil(table.scrollWidth - card.clientWidth),
  };
}).filter(row => row.overflow > 1)
"""


def _pages() -> list[str]:
    start = timezone.now() + timedelta(days=2)
    # A maintenance over planned tasks, so that its conflict table has rows.
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=3))
    UpdateTask.objects.filter(status="planned").update(
        earliest_start=start + timedelta(minutes=10), latest_start=start + timedelta(hours=1)
    )
    tenant = Tenant.objects.filter(tasks__isnull=False).order_by("pk").first()
    assert tenant is not None
    return [
        "/tenants/",
        "/tasks/",
        "/tasks/all/",
        f"/maintenance/{maintenance.pk}/",
        f"/tenants/{tenant.pk}/",
    ]


@pytest.mark.parametrize("language", ["en", "de"])
def test_no_main_table_is_wider_than_its_card_at_1280x800(browser, live_server, language):
    seed_demo()
    Administrator.objects.filter(username="platform").update(language=language)
    pages = _pages()
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="de-DE" if language == "de" else "en-US"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "platform")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    too_wide = {}
    for url in pages:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOW)
        if found:
            too_wide[url] = found
            path = f"layout-1280-{language}-{url.strip('/').replace('/', '-') or 'home'}"
            page.screenshot(path=str(_shot(path)), full_page=True)
    context.close()
    assert too_wide == {}


def _shot(name: str):
    from tests.web.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
