"""Update tasks through the API: create, preview, list, change (R2–R9 via the services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import BASE
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.updates.choices import Status
from ucfleet.updates.models import TaskAttempt, UpdateTask

pytestmark = pytest.mark.django_db

TASK_FIELDS = {
    "id",
    "tenant",
    "partner",
    "task_type",
    "from_version",
    "target_version",
    "timing",
    "earliest_start",
    "latest_start",
    "forced",
    "redeploy",
    "notify_partner",
    "notify_customer",
    "status",
    "scheduled_by",
    "created",
    "started",
    "finished",
    "failure_reason",
}


def in_hours(hours: float) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_create_answers_created_skipped_and_warnings(
    partner_api, a_tenants, versions, task_of, partner_admin
):
    task_of(a_tenants[0])
    a_tenants[1].notification_email = ""
    a_tenants[1].save()
    answer = partner_api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [t.pk for t in a_tenants],
            "timing": "immediate",
            "target_version": "14.10",
            "notify_customer": True,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert [t["tenant"]["id"] for t in body["created"]] == sorted(t.pk for t in a_tenants[1:])
    task = body["created"][0]
    assert set(task) >= TASK_FIELDS
    assert task["tenant"] == {
        "id": a_tenants[1].pk,
        "name": a_tenants[1].name,
        "instance_id": a_tenants[1].instance_id,
    }
    assert task["partner"]["name"] == "Alpha Telecom"
    assert (task["from_version"], task["target_version"], task["status"]) == (
        "14.9",
        "14.10",
        "planned",
    )
    assert task["scheduled_by"] == partner_admin.username
    assert task["earliest_start"].endswith("Z") and task["latest_start"] is None
    assert body["skipped"] == [
        {
            "tenant": a_tenants[0].pk,
            "tenant_name": a_tenants[0].name,
            "reason": "open_task_exists",
            "text": "The UC tenant already has an open update task.",
        }
    ]
    assert [(w["tenant"], w["code"]) for w in body["warnings"]] == [
        (a_tenants[1].pk, "no_customer_email")
    ]


def test_preview_writes_nothing_and_says_what_create_would_do(platform_api, a_tenants, versions):
    answer = platform_api.post(
        f"{BASE}/update-tasks/preview/",
        {
            "tenants": [t.pk for t in a_tenants],
            "timing": "custom",
            "start": in_hours(5),
            "target_version": versions["old"].pk,
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["planned"] == []
    assert {s["reason"] for s in body["skipped"]} == {"downgrade_not_confirmed"}
    assert not UpdateTask.objects.exists()


def test_partner_administrator_may_not_set_forced(partner_api, a_tenants, versions):
    answer = partner_api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [a_tenants[0].pk],
            "timing": "immediate",
            "target_version": "14.10",
            "forced": True,
        },
        format="json",
    )
    assert answer.status_code == 403
    assert not UpdateTask.objects.exists()


def test_foreign_tenant_in_a_selection_answers_404(partner_api, a_tenants, b_tenants):
    answer = partner_api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [a_tenants[0].pk, b_tenants[0].pk],
            "timing": "immediate",
            "target_version": "14.10",
        },
        format="json",
    )
    assert answer.status_code == 404
    assert not UpdateTask.objects.exists()


def test_custom_time_without_offset_is_server_time(platform_api, a_tenants, versions):
    platform_api.put(
        f"{BASE}/maintenance-window/",
        {"time_zone": "America/New_York", "expected_task_minutes": 30, "slots": []},
        format="json",
    )
    answer = platform_api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [a_tenants[0].pk],
            "timing": "custom",
            "start": "2031-07-01T22:00:00",
            "target_version": "14.10",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    task = answer.json()["created"][0]
    assert task["earliest_start"] == "2031-07-02T02:00:00Z"  # EDT is UTC-4
    assert task["latest_start"] == "2031-07-02T04:00:00Z"  # + 2 h grace


def test_start_in_a_platform_maintenance_is_refused_naming_it(platform_api, a_tenants):
    start = timezone.now() + timedelta(days=2)
    PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=4))
    answer = platform_api.post(
        f"{BASE}/update-tasks/",
        {
            "tenants": [a_tenants[0].pk],
            "timing": "custom",
            "start": (start + timedelta(hours=1)).isoformat(),
            "target_version": "14.10",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "platform maintenance" in answer.json()["errors"]["start"][0]


def test_list_filters_and_scope(
    partner_api, platform_api, a_tenants, b_tenants, task_of, partner_a
):
    planned = task_of(a_tenants[0])
    failed = task_of(a_tenants[1], status=Status.FAILED, is_forced=True)
    foreign = task_of(b_tenants[0])

    def ids(api, **params):
        answer = api.get(f"{BASE}/update-tasks/", params)
        assert answer.status_code == 200, answer.json()
        return {t["id"] for t in answer.json()["results"]}

    assert ids(partner_api) == {planned.pk, failed.pk}
    assert ids(platform_api) == {planned.pk, failed.pk, foreign.pk}
    assert ids(platform_api, partner=partner_a.pk) == {planned.pk, failed.pk}
    assert ids(platform_api, status="failed") == {failed.pk}
    assert ids(platform_api, forced="true") == {failed.pk}
    assert ids(platform_api, tenant=b_tenants[0].pk) == {foreign.pk}
    assert ids(platform_api, timing="custom") == set()
    assert ids(platform_api, task_type="update", status="planned") == {planned.pk, foreign.pk}
    assert partner_api.get(f"{BASE}/update-tasks/", {"status": "done"}).status_code == 400


def test_detail_has_the_attempts(platform_api, a_tenants, task_of):
    task = task_of(a_tenants[0], status=Status.FAILED, failure_reason="health check failed")
    now = timezone.now()
    TaskAttempt.objects.create(
        task=task,
        worker_name="w1",
        started=now - timedelta(minutes=3),
        finished=now,
        outcome="failed",
        log="pre-check ok\nboom",
    )
    body = platform_api.get(f"{BASE}/update-tasks/{task.pk}/").json()
    assert body["failure_reason"] == "health check failed"
    assert [(a["outcome"], a["log"]) for a in body["attempts"]] == [
        ("failed", "pre-check ok\nboom")
    ]
    assert body["attempts"][0]["start"].endswith("Z")


def test_reschedule_one_and_many(partner_api, a_tenants, task_of):
    tasks = [task_of(t) for t in a_tenants]
    one = partner_api.post(
        f"{BASE}/update-tasks/{tasks[0].pk}/reschedule/",
        {"start": in_hours(30), "notify_partner": True},
        format="json",
    )
    assert one.status_code == 200, one.json()
    assert one.json()["timing"] == "custom"
    running = tasks[2]
    UpdateTask.objects.filter(pk=running.pk).update(status=Status.IN_PROGRESS)
    many = partner_api.post(
        f"{BASE}/update-tasks/reschedule/",
        {"ids": [tasks[1].pk, running.pk], "start": in_hours(40)},
        format="json",
    )
    assert many.status_code == 200, many.json()
    assert many.json() == {
        "done": [tasks[1].pk],
        "refused": [{"id": running.pk, "reason": "not_planned"}],
    }
    past = partner_api.post(
        f"{BASE}/update-tasks/{tasks[1].pk}/reschedule/", {"start": in_hours(-1)}, format="json"
    )
    assert past.status_code == 400 and "start" in past.json()["errors"]


def test_delete_planned_cancels_failed_leaves_the_list_running_conflicts(
    partner_api, a_tenants, task_of
):
    planned = task_of(a_tenants[0])
    failed = task_of(a_tenants[1], status=Status.FAILED)
    running = task_of(a_tenants[2], status=Status.IN_PROGRESS)
    assert partner_api.delete(f"{BASE}/update-tasks/{planned.pk}/").status_code == 204
    assert partner_api.delete(f"{BASE}/update-tasks/{failed.pk}/").status_code == 204
    assert partner_api.delete(f"{BASE}/update-tasks/{running.pk}/").status_code == 409
    planned.refresh_from_db()
    assert planned.status == Status.CANCELLED
    listed = {t["id"] for t in partner_api.get(f"{BASE}/update-tasks/").json()["results"]}
    assert listed == {planned.pk, running.pk}


def test_partner_administrator_may_not_delete_a_forced_task(
    partner_api, platform_api, a_tenants, task_of
):
    forced = task_of(a_tenants[0], is_forced=True)
    assert partner_api.delete(f"{BASE}/update-tasks/{forced.pk}/").status_code == 403
    assert platform_api.delete(f"{BASE}/update-tasks/{forced.pk}/").status_code == 204


def test_bulk_delete_by_ids_and_all_of_a_filter(
    platform_api, a_tenants, b_tenants, task_of, partner_b
):
    a_tasks = [task_of(t) for t in a_tenants]
    b_tasks = [task_of(t) for t in b_tenants]
    by_ids = platform_api.post(
        f"{BASE}/update-tasks/delete/", {"ids": [a_tasks[0].pk]}, format="json"
    )
    assert by_ids.json() == {"done": [a_tasks[0].pk], "refused": []}
    by_filter = platform_api.post(
        f"{BASE}/update-tasks/delete/", {"all": True, "partner": partner_b.pk}, format="json"
    )
    assert by_filter.status_code == 200
    assert by_filter.json()["done"] == sorted(t.pk for t in b_tasks)
    neither = platform_api.post(f"{BASE}/update-tasks/delete/", {}, format="json")
    assert neither.status_code == 400
    assert UpdateTask.objects.filter(status=Status.PLANNED).count() == 2


def test_retry_makes_a_new_planned_task(partner_api, a_tenants, task_of):
    failed = task_of(a_tenants[0], status=Status.FAILED)
    answer = partner_api.post(f"{BASE}/update-tasks/{failed.pk}/retry/")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "planned" and answer.json()["retry_of"] == failed.pk
    again = partner_api.post(f"{BASE}/update-tasks/{answer.json()['id']}/retry/")
    assert again.status_code == 409


def test_conflicts_and_their_resolution(platform_api, partner_api, a_tenants, b_tenants, task_of):
    start = timezone.now() + timedelta(days=1)
    inside = task_of(
        a_tenants[0],
        timing="custom",
        earliest_start=start + timedelta(hours=1),
        latest_start=start + timedelta(hours=3),
    )
    foreign = task_of(
        b_tenants[0], timing="custom", earliest_start=start, latest_start=start + timedelta(hours=2)
    )
    task_of(a_tenants[1], earliest_start=start + timedelta(days=3))
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=4))
    url = f"{BASE}/platform-maintenances/{maintenance.pk}"
    seen = partner_api.get(f"{url}/conflicts/").json()
    assert [t["id"] for t in seen["results"]] == [inside.pk]
    assert (
        partner_api.post(f"{url}/resolve-conflicts/", {"action": "move"}, format="json").status_code
        == 403
    )
    moved = platform_api.post(f"{url}/resolve-conflicts/", {"action": "move"}, format="json")
    assert moved.status_code == 200, moved.json()
    body = moved.json()
    assert {t["id"] for t in body["tasks"]} == {inside.pk, foreign.pk}
    assert all(
        t["earliest_start"] >= (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
        for t in body["tasks"]
    )
    assert platform_api.get(f"{url}/conflicts/").json()["count"] == 0
