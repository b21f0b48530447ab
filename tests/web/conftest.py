"""Fixtures of the portal tests: logged-in clients, and Playwright on Debian's Chromium.

Browser tests never run `playwright install`: they drive /usr/bin/chromium and skip with one
clear line where it is missing (CI installs it and fails on skipped browser tests).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
expect.set_options(timeout=10_000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def client_for(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def platform_client(platform_admin) -> Client:
    return client_for(platform_admin)


@pytest.fixture
def partner_client(partner_admin) -> Client:
    return client_for(partner_admin)


# --- browser -------------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM) and shutil.which(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"browser tests need Debian's chromium at {CHROMIUM}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A laptop screen, and a viewer whose zone differs from server time (R3 shows both).
    return {
        **browser_context_args,
        "viewport": {"width": 1440, "height": 900},
        "timezone_id": "America/New_York",
        "locale": "en-US",
    }


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/screenshots/ for reviewers."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky title bar stays on top
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    """Log in through the login form, as a user does."""

    page.set_default_timeout(10_000)

    def do(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("form[data-testid=login-form] button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

    return do


@pytest.fixture
def accept_dialogs(page):
    """Confirm every confirm() the portal asks (Delete, Delete all tasks …)."""
    page.on("dialog", lambda dialog: dialog.accept())
    return page


# --- domain set-up shared by the portal tests ------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sunday_window(platform_admin):
    """Sun 01:00 for 4 h in Europe/Berlin (server time), tasks expected to take 30 minutes."""
    from datetime import time

    from ucfleet.maintenance.services import SlotInput, update_window

    return update_window(
        platform_admin,
        time_zone="Europe/Berlin",
        slots=[SlotInput(weekdays=[6], start=time(1, 0), duration_minutes=240)],
        expected_task_minutes=30,
    )


@pytest.fixture
def schedule(platform_admin, versions):
    """Create tasks through the real scheduling service."""
    from ucfleet.updates.services import ScheduleRequest, schedule_updates

    def make(tenants, *, admin=None, version=None, **options):
        request = ScheduleRequest(
            tenant_ids=[t.pk for t in tenants],
            timing=options.pop("timing", "immediate"),
            target_version=(version or versions["new"]).pk,
            **options,
        )
        return list(schedule_updates(admin or platform_admin, request).created)

    return make
