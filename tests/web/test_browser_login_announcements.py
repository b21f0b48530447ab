"""The login page stays compact with several long maintenance announcements: the form and
its button stay on a laptop screen (issue 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ucfleet.maintenance.models import PlatformMaintenance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_MESSAGE = 2000  # characters of a maintenance message (issue 9)


def test_three_long_announcements_leave_the_login_button_on_screen(page, live_server, screenshot):
    for day in (1, 2, 3):
        start = timezone.now() + timedelta(days=day)
        words = f"Maintenance {day}: core network upgrade, expect short interruptions. "
        PlatformMaintenance.objects.create(
            start=start,
            end=start + timedelta(hours=4),
            message_en=(words * MAX_MESSAGE)[:MAX_MESSAGE],
        )
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    announcements = page.get_by_test_id("maintenance-announcement")
    expect(announcements).to_have_count(3)
    # Read from the top, as the page opens (the focused user name field may scroll it).
    page.evaluate("window.scrollTo(0, 0)")
    button = page.locator("form[data-testid=login-form] button[type=submit]")
    expect(button).to_be_in_viewport()
    box = button.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800
    # The first announcement is on screen with it, and the others can still be read: the
    # list scrolls, and so does each message.
    expect(announcements.first.locator("h2")).to_be_in_viewport()
    last = announcements.nth(2)
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    expect(last).to_contain_text("Maintenance 3")
    page.get_by_test_id("maintenance-announcements").evaluate("e => e.scrollTo(0, 0)")
    page.evaluate("window.scrollTo(0, 0)")
    expect(button).to_be_in_viewport()
    screenshot("login-three-long-announcements")
