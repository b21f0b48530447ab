"""Login page, platform maintenance (R8) and the administrator's language (§9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD
from ucfleet.maintenance.models import PlatformMaintenance

pytestmark = pytest.mark.django_db


def _maintenance(*, starts_in: timedelta, hours: int = 2) -> PlatformMaintenance:
    start = timezone.now() + starts_in
    return PlatformMaintenance.objects.create(
        start=start,
        end=start + timedelta(hours=hours),
        message_en="Database upgrade",
        message_de="Datenbank-Aktualisierung",
    )


def test_login_page_announces_upcoming_maintenance_with_start_end_and_message(client):
    _maintenance(starts_in=timedelta(days=2))
    page = client.get("/login/").content.decode()
    assert 'data-testid="maintenance-announcement"' in page
    assert "Platform maintenance announced" in page
    assert "Database upgrade" in page
    assert "titlebar--maintenance" not in page


def test_login_page_shows_nothing_about_a_finished_maintenance(client):
    _maintenance(starts_in=timedelta(days=-2))
    assert b"maintenance-announcement" not in client.get("/login/").content


def test_running_maintenance_turns_the_title_bar_orange(client):
    _maintenance(starts_in=timedelta(minutes=-5))
    page = client.get("/login/").content.decode()
    assert "titlebar--maintenance" in page
    assert "Platform maintenance in progress" in page


def test_partner_admin_cannot_log_in_during_running_maintenance(client, partner_admin):
    _maintenance(starts_in=timedelta(minutes=-5))
    response = client.post("/login/", {"username": partner_admin.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "only platform administrators can log in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_platform_admin_can_log_in_during_running_maintenance(client, platform_admin):
    _maintenance(starts_in=timedelta(minutes=-5))
    response = client.post("/login/", {"username": platform_admin.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_open_partner_session_ends_when_maintenance_starts(client, partner_admin):
    client.force_login(partner_admin)
    assert client.get("/tenants/").status_code == 200
    _maintenance(starts_in=timedelta(minutes=-1))
    response = client.get("/tenants/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    login_page = client.get(response["Location"]).content.decode()
    assert "Your session ended because a platform maintenance is running." in login_page


def test_wrong_password_shows_an_error_and_logs_nobody_in(client, partner_admin):
    response = client.post("/login/", {"username": partner_admin.username, "password": "nope"})
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_follows_the_browser_language(client):
    page = client.get("/login/", headers={"accept-language": "de-DE,de;q=0.9"}).content.decode()
    assert 'lang="de"' in page
    assert "Anmelden" in page


def test_administrator_language_applies_after_login_whatever_the_browser(partner_admin):
    partner_admin.language = "de"
    partner_admin.save(update_fields=["language"])
    client = Client()
    client.force_login(partner_admin)
    page = client.get("/tenants/", headers={"accept-language": "en"}).content.decode()
    assert 'lang="de"' in page
    assert "UC-Tenants" in page or "UC Tenants" not in page


def test_language_switch_stores_the_administrators_language(partner_client, partner_admin):
    response = partner_client.post("/account/language/", {"language": "de", "next": "/tasks/"})
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    partner_admin.refresh_from_db()
    assert partner_admin.language == "de"
    assert 'lang="de"' in partner_client.get("/tasks/").content.decode()


def test_language_switch_refuses_an_unknown_language(partner_client, partner_admin):
    partner_client.post("/account/language/", {"language": "fr"})
    partner_admin.refresh_from_db()
    assert partner_admin.language == "en"


def test_language_switch_ignores_a_foreign_next_url(partner_client):
    response = partner_client.post(
        "/account/language/", {"language": "de", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_pages_need_a_login(client):
    for url in (
        "/",
        "/tenants/",
        "/tasks/",
        "/updates/new/",
        "/change-log/",
        "/outbox/",
        "/rollouts/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
