"""Answers that must not tell "not yours" from "does not exist" (R1): a hidden test version,
a taken tenant name or domain, a partner's right password during a platform maintenance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import BASE
from tests.factories import PASSWORD
from ucfleet.maintenance.models import PlatformMaintenance

pytestmark = pytest.mark.django_db


def _answer(response) -> tuple[int, dict]:
    return response.status_code, response.json()


def test_preview_of_a_hidden_test_version_answers_as_a_missing_one(
    partner_api, a_tenants, versions
):
    def preview(target: str):
        return partner_api.post(
            f"{BASE}/update-tasks/preview/",
            {"tenants": [a_tenants[0].pk], "timing": "immediate", "target_version": target},
            format="json",
        )

    hidden = _answer(preview(versions["test"].name))
    missing = _answer(preview("99.99"))
    assert hidden == missing
    assert hidden[0] == 404 and "test_version_forbidden" not in str(hidden[1])


@pytest.mark.parametrize("field", ["name", "domain"])
def test_a_taken_tenant_name_reads_the_same_whoever_has_it(
    partner_api, partner_a, a_tenants, b_tenants, versions, field
):
    def create(value: str):
        body = {
            "name": "fresh-name",
            "domain": "fresh.uc.example",
            "version": versions["current"].pk,
            field: value,
        }
        return partner_api.post(f"{BASE}/tenants/", body, format="json")

    foreign = _answer(create(getattr(b_tenants[0], field)))
    own = _answer(create(getattr(a_tenants[0], field)))
    assert foreign[0] == own[0] == 400
    assert foreign[1] == own[1]
    assert foreign[1]["errors"][field] == [f"This {field} is not available."]
    assert "exists" not in str(foreign[1])


def test_during_a_maintenance_a_partners_right_password_answers_as_a_wrong_one(
    partner_admin, client_for
):
    now = timezone.now()
    PlatformMaintenance.objects.create(
        start=now - timedelta(minutes=5), end=now + timedelta(hours=1)
    )

    def token(password: str):
        return client_for(None).post(
            f"{BASE}/auth/token/",
            {"username": partner_admin.username, "password": password},
            format="json",
        )

    right, wrong = token(PASSWORD), token("wrong-password")
    assert _answer(right) == _answer(wrong)
    assert right.status_code == 503 and right.get("Retry-After") == wrong.get("Retry-After")

    def portal(password: str) -> tuple[int, str]:
        page = Client().post("/login/", {"username": partner_admin.username, "password": password})
        html = page.content.decode()
        start = html.index('data-testid="login-error"')
        return page.status_code, html[start : html.index("</div>", start)]

    assert portal(PASSWORD) == portal("wrong-password")
    assert "only platform administrators can log in" in portal(PASSWORD)[1]
