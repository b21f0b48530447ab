"""The Webhooks page: add an endpoint (events as checkboxes), see its deliveries, send a test
event; partner administrators see only their own partner's endpoints (R1)."""

from __future__ import annotations

import pytest

from tests.web.conftest import client_for
from ucfleet.webhooks.models import WebhookDelivery, WebhookEndpoint
from ucfleet.webhooks.services import create_endpoint

pytestmark = pytest.mark.django_db


def test_add_an_endpoint_send_a_test_event_and_see_its_delivery(partner_admin):
    client = client_for(partner_admin)
    assert b'data-testid="nav-webhooks"' in client.get("/").content
    answer = client.post(
        "/webhooks/new/",
        {"url": "https://hooks.example/a", "events": ["task.failed", "maintenance.created"],
         "is_active": "on"},
    )  # fmt: skip
    endpoint = WebhookEndpoint.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/webhooks/{endpoint.pk}/"
    assert endpoint.partner_id == partner_admin.partner_id
    assert endpoint.events == ["task.failed", "maintenance.created"]
    client.post(f"/webhooks/{endpoint.pk}/test/")
    page = client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert WebhookDelivery.objects.get().event == "webhook.test"
    assert "webhook.test" in page and 'type="checkbox"' in page
    assert "https://hooks.example/a" in client.get("/webhooks/").content.decode()


def test_bad_input_is_shown_on_the_form(platform_admin):
    answer = client_for(platform_admin).post(
        "/webhooks/new/", {"url": "http://hooks.example/a", "events": ["*"], "partner": ""}
    )
    assert answer.status_code == 200 and "loopback" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_partner_sees_no_other_partners_endpoint(partner_admin, partner_b_admin):
    foreign, _ = create_endpoint(partner_b_admin, url="https://hooks.example/b", events=["*"])
    client = client_for(partner_admin)
    assert "hooks.example/b" not in client.get("/webhooks/").content.decode()
    assert client.get(f"/webhooks/{foreign.pk}/").status_code == 404
    assert client.post(f"/webhooks/{foreign.pk}/test/").status_code in (302, 404)
    assert not WebhookDelivery.objects.exists()


def test_the_page_speaks_german(partner_admin):
    partner_admin.language = "de"
    partner_admin.save()
    client = client_for(partner_admin)
    client.cookies["django_language"] = "de"
    page = client.get("/webhooks/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Endpunkt hinzufügen" in page
