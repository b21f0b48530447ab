"""In Chromium: the change log reads in both languages (names, links, localized values),
and the task list's Export CSV button downloads what the current filter shows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import Change, record
from ucfleet.updates.choices import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("language", "failed"), [("en", "failed"), ("de", "fehlgeschlagen")])
def test_the_change_log_names_objects_in_the_viewers_language(
    page, login, screenshot, platform_admin, a_tenants, schedule, partner_a, language, failed
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    [task] = schedule([a_tenants[0]])
    record(
        SYSTEM,
        Change(
            "update",
            "update_task",
            task.pk,
            "status",
            Status.IN_PROGRESS,
            Status.FAILED,
            partner_id=partner_a.pk,
        ),
    )
    login(platform_admin.username)
    page.goto(page.url.rstrip("/") + "/change-log/")
    first = page.get_by_test_id("changelog-table").locator("tbody tr").first
    expect(first.get_by_test_id("changelog-object")).to_contain_text(f"{a_tenants[0].name} → 14.10")
    expect(first).to_contain_text(failed)
    first.get_by_role("link", name=f"{a_tenants[0].name} → 14.10").click()
    expect(page).to_have_url(f"{page.url.split('/tenants/')[0]}/tenants/{a_tenants[0].pk}/")
    page.go_back()
    screenshot(f"change-log-readable-{language}")


def test_export_csv_downloads_the_filtered_task_list(
    page, login, platform_admin, a_tenants, schedule, live_server
):
    schedule(a_tenants)
    login(platform_admin.username)
    page.goto(f"{live_server.url}/tasks/")
    search = page.get_by_test_id("task-filters").locator("input[name=q]")
    search.fill(a_tenants[1].name)
    search.press("Enter")  # htmx swaps the list and pushes the filter into the address
    expect(page.get_by_test_id("task-table").locator("tbody tr[data-task-id]")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["tenant"] for r in rows] == [a_tenants[1].name]
