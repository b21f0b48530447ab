"""In Chromium: a bulk action reads as one line of the change log in both languages, and
its link opens the entries it stands for (R31)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ucfleet.updates.services import reschedule_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "words"), [("en", "rescheduled 5 tasks"), ("de", "5 Aufgaben verschoben")]
)
def test_a_bulk_action_reads_as_one_line_with_its_entries_behind_it(
    page, login, screenshot, platform_admin, a_tenants, b_tenants, schedule, language, words
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    tasks = schedule([*a_tenants, *b_tenants])
    start = (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0)
    reschedule_tasks(platform_admin, [t.pk for t in tasks], start=start, notify_partner=False)
    login(platform_admin.username)
    page.goto(page.url.rstrip("/") + "/change-log/")
    bulk = page.get_by_test_id("changelog-bulk")
    expect(bulk).to_have_count(2)  # the rescheduling, and the request over 2 partners
    line = bulk.filter(has_text=words)
    expect(line).to_have_count(1)
    screenshot(f"change-log-grouped-{language}")
    line.get_by_test_id("changelog-group-link").click()
    expect(page.get_by_test_id("changelog-group-head")).to_contain_text(words)
    rows = page.get_by_test_id("changelog-table").locator("tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first.get_by_test_id("changelog-object")).to_contain_text("→ 14.10")
    screenshot(f"change-log-group-entries-{language}")
