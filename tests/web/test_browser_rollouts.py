"""In Chromium: the Rollouts menu entry, the rollout page in both languages (progress,
waves, timeline chart, failures), and Pause with its confirmation (R18, R22)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.rollout_fixtures import rollout  # noqa: F401 (fixture)
from ucfleet.rollouts.choices import RolloutStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "paused", "pause"), [("en", "paused", "Pause"), ("de", "angehalten", "Anhalten")]
)
def test_the_rollout_page_shows_its_progress_and_pauses_after_confirmation(
    page,
    login,
    screenshot,
    accept_dialogs,
    platform_admin,
    rollout,  # noqa: F811
    language,
    paused,
    pause,
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    login(platform_admin.username)
    page.get_by_test_id("nav-rollouts").click()
    expect(page.get_by_test_id("rollout-row")).to_have_count(1)
    screenshot(f"rollouts-list-{language}")
    page.get_by_role("link", name="Canary 14.10").click()
    expect(page.get_by_test_id("rollout-wave")).to_have_count(2)
    expect(page.get_by_test_id("progress-bar").first).to_have_attribute("data-percent", "40")
    timeline = page.get_by_test_id("rollout-timeline")
    expect(timeline.locator("polyline[data-series=executed]")).to_have_count(1)
    expect(timeline.locator("polyline[data-series=failed]")).to_have_count(1)
    expect(page.get_by_test_id("rollout-failures")).to_contain_text("disk full")
    screenshot(f"rollout-page-{language}")
    page.get_by_test_id("rollout-pause").click()  # accept_dialogs confirms
    expect(page.get_by_test_id("rollout-status")).to_have_text(paused)
    expect(page.get_by_test_id("rollout-paused-reason")).to_contain_text(platform_admin.username)
    expect(page.get_by_test_id("rollout-resume")).to_be_visible()
    expect(page.get_by_role("button", name=pause, exact=True)).to_have_count(0)
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.PAUSED
    screenshot(f"rollout-paused-{language}")
