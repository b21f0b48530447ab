"""Platform | UC Tenant Tasks | Update: list, details, postpone, reschedule, delete (R9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UpdateTaskFactory
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def _wall(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _messages(client, url="/tasks/") -> str:
    return client.get(url).content.decode()


def test_task_list_shows_the_columns_of_the_manual(platform_client, a_tenants, schedule):
    schedule(a_tenants[:1], forced=True)
    page = platform_client.get("/tasks/").content.decode()
    assert "Platform | UC Tenant Tasks | Update" in page
    for column in (
        "UC Tenant",
        "Partner",
        "Target software version",
        "Timing",
        "Start",
        "Markers",
        "Forced",
        "Status",
    ):
        assert column in page
    assert 'data-testid="forced-marker"' in page
    assert ">planned<" in page


def test_partner_admin_sees_only_its_partners_tasks(partner_client, a_tenants, b_tenants, schedule):
    schedule(a_tenants + b_tenants)
    page = partner_client.get("/tasks/").content.decode()
    assert all(t.name in page for t in a_tenants)
    assert all(t.name not in page for t in b_tenants)


def test_update_list_holds_update_tasks_and_all_tasks_every_type(
    platform_client, a_tenants, schedule
):
    schedule(a_tenants[:1], task_type="recreate")
    assert a_tenants[0].name not in platform_client.get("/tasks/").content.decode()
    assert a_tenants[0].name in platform_client.get("/tasks/all/").content.decode()


def test_cancelled_tasks_leave_the_default_list_but_can_be_filtered(
    platform_client, a_tenants, schedule
):
    (task,) = schedule(a_tenants[:1])
    UpdateTask.objects.filter(pk=task.pk).update(status=Status.CANCELLED)
    assert a_tenants[0].name not in platform_client.get("/tasks/").content.decode()
    assert a_tenants[0].name in platform_client.get("/tasks/?status=cancelled").content.decode()


def test_details_row_shows_scheduled_by_latest_start_type_instance_and_log(
    platform_client, platform_admin, a_tenants, schedule
):
    (task,) = schedule(a_tenants[:1], timing="custom", start=timezone.now() + timedelta(days=3))
    task.attempts.create(worker_name="w1", started=timezone.now(), log="pre-check ok")
    page = platform_client.get(f"/tasks/{task.pk}/details/").content.decode()
    assert platform_admin.username in page
    assert a_tenants[0].instance_id in page
    assert "Latest start" in page and "Update" in page
    assert "pre-check ok" in page


def test_details_of_a_foreign_task_answer_404(partner_client, b_tenants, schedule):
    (task,) = schedule(b_tenants[:1])
    assert partner_client.get(f"/tasks/{task.pk}/details/").status_code == 404
    assert partner_client.get(f"/tasks/{task.pk}/postpone/").status_code == 404
    assert partner_client.post(f"/tasks/{task.pk}/delete/").status_code == 404


def test_postpone_moves_one_task(partner_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1])
    new_start = timezone.now() + timedelta(days=2)
    response = partner_client.post(
        f"/tasks/{task.pk}/postpone/", {"start": _wall(new_start), "notify_partner": "on"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.timing == "custom"
    assert abs((task.earliest_start - new_start).total_seconds()) < 60


def test_postpone_into_the_past_is_a_field_error_and_changes_nothing(
    partner_client, a_tenants, schedule
):
    (task,) = schedule(a_tenants[:1])
    before = task.earliest_start
    response = partner_client.post(
        f"/tasks/{task.pk}/postpone/", {"start": _wall(timezone.now() - timedelta(days=1))}
    )
    assert response.status_code == 200
    assert "The time must lie in the future." in response.content.decode()
    task.refresh_from_db()
    assert task.earliest_start == before


def test_postpone_with_garbage_is_a_field_error(partner_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1])
    response = partner_client.post(f"/tasks/{task.pk}/postpone/", {"start": "tomorrow-ish"})
    assert "Enter a valid date and time." in response.content.decode()


def test_partner_admin_cannot_delete_forced_task(partner_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1], forced=True)
    page = partner_client.get("/tasks/").content.decode()
    assert 'disabled data-testid="delete-task"' in page
    partner_client.post(f"/tasks/{task.pk}/delete/")
    task.refresh_from_db()
    assert task.status == Status.PLANNED
    assert "Forced tasks can only be changed by platform administrators." in _messages(
        partner_client
    )


def test_platform_admin_deletes_forced_task(platform_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1], forced=True)
    platform_client.post(f"/tasks/{task.pk}/delete/")
    task.refresh_from_db()
    assert task.status == Status.CANCELLED


def test_bulk_delete_reports_refused_forced_tasks(partner_client, a_tenants, schedule):
    forced = schedule(a_tenants[:1], forced=True)[0]
    normal = schedule(a_tenants[1:2])[0]
    partner_client.post("/tasks/bulk/", {"action": "delete", "ids": [forced.pk, normal.pk]})
    forced.refresh_from_db()
    normal.refresh_from_db()
    assert (forced.status, normal.status) == (Status.PLANNED, Status.CANCELLED)
    page = _messages(partner_client)
    assert "1 task deleted." in page and "1 task was refused" in page
    assert a_tenants[0].name in page


def test_reschedule_selected_tasks(partner_client, a_tenants, schedule):
    tasks = schedule(a_tenants)
    new_start = timezone.now() + timedelta(days=5)
    partner_client.post(
        "/tasks/bulk/",
        {"action": "reschedule", "ids": [t.pk for t in tasks[:2]], "start": _wall(new_start)},
    )
    moved = UpdateTask.objects.filter(pk__in=[t.pk for t in tasks[:2]])
    assert all(abs((t.earliest_start - new_start).total_seconds()) < 60 for t in moved)
    assert UpdateTask.objects.get(pk=tasks[2].pk).timing == "immediate"
    assert "2 tasks rescheduled." in _messages(partner_client)


def test_reschedule_without_a_time_changes_nothing(partner_client, a_tenants, schedule):
    tasks = schedule(a_tenants)
    partner_client.post("/tasks/bulk/", {"action": "reschedule", "ids": [tasks[0].pk]})
    assert UpdateTask.objects.get(pk=tasks[0].pk).timing == "immediate"
    assert "Reschedule selected tasks: This field is required." in _messages(partner_client)


def test_reschedule_into_a_platform_maintenance_is_refused_naming_it(
    partner_client, a_tenants, schedule
):
    from ucfleet.maintenance.models import PlatformMaintenance

    tasks = schedule(a_tenants[:1])
    start = timezone.now() + timedelta(days=3)
    PlatformMaintenance.objects.create(
        start=start - timedelta(hours=1), end=start + timedelta(hours=1)
    )
    partner_client.post(
        "/tasks/bulk/", {"action": "reschedule", "ids": [tasks[0].pk], "start": _wall(start)}
    )
    assert UpdateTask.objects.get(pk=tasks[0].pk).timing == "immediate"
    assert "the platform maintenance from" in _messages(partner_client)


def test_delete_all_tasks_deletes_what_the_filter_shows(
    platform_client, a_tenants, b_tenants, partner_a, schedule
):
    schedule(a_tenants + b_tenants)
    platform_client.post(
        "/tasks/bulk/", {"action": "delete_all", "partner": partner_a.pk, "all_types": "0"}
    )
    assert set(
        UpdateTask.objects.filter(status=Status.CANCELLED).values_list(
            "tenant__partner_id", flat=True
        )
    ) == {partner_a.pk}
    assert UpdateTask.objects.filter(status=Status.PLANNED).count() == len(b_tenants)


def test_failed_task_can_be_retried_and_deleted(platform_client, a_tenants, versions):
    failed = UpdateTaskFactory(
        tenant=a_tenants[0],
        target_version=versions["new"],
        status=Status.FAILED,
        failure_reason="health check failed",
    )
    page = platform_client.get("/tasks/").content.decode()
    assert "Retry" in page
    platform_client.post(f"/tasks/{failed.pk}/retry/")
    assert UpdateTask.objects.filter(tenant=a_tenants[0], status=Status.PLANNED).exists()
    other = UpdateTaskFactory(
        tenant=a_tenants[1], target_version=versions["new"], status=Status.FAILED
    )
    platform_client.post(f"/tasks/{other.pk}/delete/")
    other.refresh_from_db()
    assert other.is_archived


def test_in_progress_task_cannot_be_deleted(platform_client, a_tenants, versions):
    task = UpdateTaskFactory(
        tenant=a_tenants[0], target_version=versions["new"], status=Status.IN_PROGRESS
    )
    platform_client.post(f"/tasks/{task.pk}/delete/")
    task.refresh_from_db()
    assert task.status == Status.IN_PROGRESS
    assert "Only planned tasks can be changed." in _messages(platform_client)


def test_status_poll_swaps_visible_statuses_only(partner_client, a_tenants, b_tenants, versions):
    mine = UpdateTaskFactory(
        tenant=a_tenants[0], target_version=versions["new"], status=Status.IN_PROGRESS
    )
    foreign = UpdateTaskFactory(
        tenant=b_tenants[0], target_version=versions["new"], status=Status.IN_PROGRESS
    )
    page = partner_client.get(f"/tasks/statuses/?ids={mine.pk},{foreign.pk}").content.decode()
    assert f'id="task-status-{mine.pk}" hx-swap-oob="true"' in page
    assert f"task-status-{foreign.pk}" not in page
    assert f"ids={mine.pk}" in page  # still open: keep polling
    UpdateTask.objects.filter(pk=mine.pk).update(status=Status.EXECUTED)
    page = partner_client.get(f"/tasks/statuses/?ids={mine.pk}").content.decode()
    assert 'data-status="executed"' in page and "hx-trigger" not in page


def test_list_with_open_tasks_polls_for_their_status(platform_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1])
    page = platform_client.get("/tasks/").content.decode()
    assert f"/tasks/statuses/?ids={task.pk}" in page and 'hx-trigger="every 3s"' in page


def test_filters_narrow_the_task_list(platform_client, a_tenants, schedule):
    schedule(a_tenants[:1], forced=True)
    schedule(a_tenants[1:2], timing="custom", start=timezone.now() + timedelta(days=1))
    page = platform_client.get("/tasks/?forced=1").content.decode()
    assert a_tenants[0].name in page and a_tenants[1].name not in page
    page = platform_client.get("/tasks/?timing=custom").content.decode()
    assert a_tenants[1].name in page and a_tenants[0].name not in page
    page = platform_client.get(f"/tasks/?q={a_tenants[1].name}").content.decode()
    assert a_tenants[1].name in page and a_tenants[0].name not in page
