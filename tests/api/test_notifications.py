"""The outbox through the API: what the scheduling services enqueued, scoped (R1, R15)."""

from __future__ import annotations

import pytest

from tests.api.conftest import BASE

pytestmark = pytest.mark.django_db


def test_outbox_lists_the_emails_of_a_request_for_its_partner_only(
    client_for, partner_admin, partner_b_admin, a_tenants, platform_admin
):
    created = client_for(partner_admin).post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [a_tenants[0].pk],
            "timing": "immediate",
            "target_version": "14.10",
            "notify_partner": True,
            "notify_customer": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    task_id = created.json()["created"][0]["id"]

    own = client_for(partner_admin).get(f"{BASE}/notifications/").json()
    assert {n["kind"] for n in own["results"]} == {"created_partner", "created_customer"}
    entry = next(n for n in own["results"] if n["kind"] == "created_customer")
    assert set(entry) == {
        "id",
        "kind",
        "recipients",
        "language",
        "subject",
        "status",
        "attempts",
        "created",
        "sent_at",
        "tasks",
    }
    assert entry["recipients"] == [a_tenants[0].notification_email]
    assert (entry["tasks"], entry["status"], entry["sent_at"]) == ([task_id], "queued", None)
    assert entry["created"].endswith("Z")

    detail = client_for(partner_admin).get(f"{BASE}/notifications/{entry['id']}/").json()
    assert "14.10" in detail["body"]
    assert client_for(partner_b_admin).get(f"{BASE}/notifications/").json()["count"] == 0
    assert (
        client_for(partner_b_admin).get(f"{BASE}/notifications/{entry['id']}/").status_code == 404
    )
    filtered = client_for(platform_admin).get(
        f"{BASE}/notifications/", {"kind": "created_partner", "task": task_id}
    )
    assert [n["kind"] for n in filtered.json()["results"]] == ["created_partner"]


def test_platform_admin_sends_a_failed_email_again_once(client_for, platform_admin, a_tenants):
    from ucfleet.audit.models import ChangeLogEntry
    from ucfleet.notifications.models import Notification

    created = client_for(platform_admin).post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [a_tenants[0].pk],
            "timing": "immediate",
            "target_version": "14.10",
            "notify_customer": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    mail = Notification.objects.get(kind="created_customer")
    url = f"{BASE}/notifications/{mail.pk}/retry/"
    assert client_for(platform_admin).post(url).status_code == 409  # queued, not failed
    Notification.objects.filter(pk=mail.pk).update(status="failed", attempts=10)

    answer = client_for(platform_admin).post(url)
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["status"], answer.json()["attempts"]) == ("queued", 0)
    assert ChangeLogEntry.objects.filter(action="retry", object_type="notification").count() == 1
    assert client_for(platform_admin).post(url).status_code == 409  # queued again: no double
