"""Passwords in the portal and the CLI: Django's validators, and one's own password only with
the current one."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD
from ucfleet.accounts.models import Administrator
from ucfleet.accounts.tokens import issue_token

pytestmark = pytest.mark.django_db

STRONG = "Sturdy-Harbour-Lantern-42"


def own_edit(admin, **fields):
    data = {"email": admin.email, "language": "en", "is_active": "on", **fields}
    client = Client()
    client.force_login(admin)
    return client, client.post(f"/administrators/{admin.pk}/", data)


def test_changing_ones_own_password_asks_for_the_current_one(partner_admin):
    _, page = own_edit(partner_admin, password=STRONG)
    assert (
        page.status_code == 200 and "Your current password is not correct." in page.content.decode()
    )
    _, page = own_edit(partner_admin, password=STRONG, current_password="wrong-one-entirely")
    assert "Your current password is not correct." in page.content.decode()
    partner_admin.refresh_from_db()
    assert partner_admin.check_password(PASSWORD)
    client, page = own_edit(partner_admin, password=STRONG, current_password=PASSWORD)
    assert page.status_code == 302
    partner_admin.refresh_from_db()
    assert partner_admin.check_password(STRONG)
    assert client.get("/tenants/").status_code == 200  # this session goes on


def test_the_edit_page_of_another_administrator_asks_no_current_password(
    advanced_partner_admin, partner_admin
):
    client = Client()
    client.force_login(advanced_partner_admin)
    assert (
        b'name="current_password"' not in client.get(f"/administrators/{partner_admin.pk}/").content
    )
    assert (
        b'name="current_password"'
        in client.get(f"/administrators/{advanced_partner_admin.pk}/").content
    )


def test_a_new_password_in_the_portal_revokes_the_api_tokens(advanced_partner_admin, partner_admin):
    key = issue_token(partner_admin).key
    client = Client()
    client.force_login(advanced_partner_admin)
    page = client.post(
        f"/administrators/{partner_admin.pk}/",
        {"email": "", "language": "en", "is_active": "on", "password": STRONG},
    )
    assert page.status_code == 302
    stale = Client().get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Token {key}")
    assert stale.status_code == 401


@pytest.mark.parametrize(
    ("password", "says"),
    [("qwertyqwerty", "too common"), ("Short-pass1", "too short"), ("839204718293", "numeric")],
)
def test_creating_an_administrator_in_the_portal_validates_the_password(
    advanced_platform_admin, password, says
):
    client = Client()
    client.force_login(advanced_platform_admin)
    page = client.post(
        "/administrators/new/",
        {"username": "frank", "password": password, "profile": "platform", "language": "en"},
    )
    assert page.status_code == 200 and says in page.content.decode()
    assert not Administrator.objects.filter(username="frank").exists()


@pytest.mark.parametrize(
    ("stdin", "says"), [("qwertyqwerty\n", "too common"), ("Short-pass1\n", "too short")]
)
def test_createadmin_validates_the_password(stdin, says, monkeypatch):
    import io
    import sys

    from django.core.management import call_command
    from django.core.management.base import CommandError

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(CommandError, match=says):
        call_command("createadmin", "gina", "--profile", "platform", "--password-stdin")
    assert not Administrator.objects.filter(username="gina").exists()
