"""`/api/v1/administrators/`: the portal's rules, validated write-only passwords, and token
revocation on a new password or a deactivation (API.md)."""

from __future__ import annotations

import pytest

from tests.api.conftest import BASE
from tests.factories import PASSWORD
from ucfleet.accounts.models import Administrator
from ucfleet.accounts.tokens import issue_token

pytestmark = pytest.mark.django_db

URL = f"{BASE}/administrators/"
STRONG = "Sturdy-Harbour-Lantern-42"
FIELDS = {
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "profile",
    "partner",
    "language",
    "is_active",
}


def test_create_answers_the_documented_fields_and_never_the_password(
    client_for, advanced_platform_admin, partner_a
):
    answer = client_for(advanced_platform_admin).post(
        URL,
        {
            "username": "carol",
            "password": STRONG,
            "profile": "partner_advanced",
            "partner": partner_a.pk,
            "email": "carol@alpha.example",
            "language": "de",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) == FIELDS
    assert body["partner"] == partner_a.pk and body["language"] == "de"
    assert Administrator.objects.get(username="carol").check_password(STRONG)
    listed = client_for(advanced_platform_admin).get(URL).json()["results"]
    assert all(set(row) == FIELDS for row in listed)


@pytest.mark.parametrize(
    ("profile", "password", "says"),
    [
        ("platform", "Short-pass1", "too short"),  # 11 < 12 for platform profiles
        ("partner", "Short-pas", "too short"),  # 9 < 10 for partner profiles
        ("platform", "qwertyqwerty", "too common"),
        ("platform", "839204718293", "entirely numeric"),
        ("platform", "dave-the-operator", "too similar"),
    ],
)
def test_create_refuses_weak_passwords_naming_the_field(
    client_for, advanced_platform_admin, partner_a, profile, password, says
):
    body = {"username": "dave-the-operator", "password": password, "profile": profile}
    if profile == "partner":
        body["partner"] = partner_a.pk
    answer = client_for(advanced_platform_admin).post(URL, body, format="json")
    assert answer.status_code == 400
    assert says in " ".join(answer.json()["errors"]["password"])
    assert not Administrator.objects.filter(username="dave-the-operator").exists()


def test_a_partner_password_of_ten_characters_is_enough(client_for, advanced_partner_admin):
    answer = client_for(advanced_partner_admin).post(
        URL, {"username": "erin", "password": "Quiet-fox9", "profile": "partner"}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["partner"] == advanced_partner_admin.partner_id


def test_a_new_password_revokes_that_administrators_tokens(
    client_for, advanced_partner_admin, partner_admin
):
    key = issue_token(partner_admin).key
    answer = client_for(advanced_partner_admin).patch(
        f"{URL}{partner_admin.pk}/", {"password": STRONG}, format="json"
    )
    assert answer.status_code == 200 and "password" not in answer.json()
    stale = client_for(None).get(f"{BASE}/tenants/", HTTP_AUTHORIZATION=f"Token {key}")
    assert stale.status_code == 401


def test_delete_deactivates_and_revokes_tokens(client_for, advanced_partner_admin, partner_admin):
    key = issue_token(partner_admin).key
    answer = client_for(advanced_partner_admin).delete(f"{URL}{partner_admin.pk}/")
    assert answer.status_code == 204
    partner_admin.refresh_from_db()
    assert not partner_admin.is_active
    stale = client_for(None).get(f"{BASE}/tenants/", HTTP_AUTHORIZATION=f"Token {key}")
    assert stale.status_code == 401


def test_changing_ones_own_password_needs_the_current_one(client_for, partner_admin):
    me = client_for(partner_admin)
    refused = me.patch(f"{URL}{partner_admin.pk}/", {"password": STRONG}, format="json")
    assert refused.status_code == 400 and "current_password" in refused.json()["errors"]
    wrong = me.patch(
        f"{URL}{partner_admin.pk}/",
        {"password": STRONG, "current_password": "not-it"},
        format="json",
    )
    assert wrong.status_code == 400 and "current_password" in wrong.json()["errors"]
    partner_admin.refresh_from_db()
    assert partner_admin.check_password(PASSWORD)
    done = client_for(partner_admin).patch(
        f"{URL}{partner_admin.pk}/",
        {"password": STRONG, "current_password": PASSWORD},
        format="json",
    )
    assert done.status_code == 200
    partner_admin.refresh_from_db()
    assert partner_admin.check_password(STRONG)


@pytest.mark.parametrize("field", ["username", "profile", "partner"])
def test_fixed_fields_cannot_change(client_for, advanced_platform_admin, partner_admin, field):
    answer = client_for(advanced_platform_admin).patch(
        f"{URL}{partner_admin.pk}/", {field: "platform"}, format="json"
    )
    assert answer.status_code == 400 and field in answer.json()["errors"]


def test_no_one_deactivates_themselves(client_for, advanced_platform_admin):
    answer = client_for(advanced_platform_admin).delete(f"{URL}{advanced_platform_admin.pk}/")
    assert answer.status_code == 400 and "is_active" in answer.json()["errors"]


def test_partner_admins_list_only_their_partners_administrators(
    client_for, advanced_partner_admin, partner_b_admin, platform_admin
):
    names = {
        row["username"] for row in client_for(advanced_partner_admin).get(URL).json()["results"]
    }
    assert advanced_partner_admin.username in names
    assert partner_b_admin.username not in names and platform_admin.username not in names
