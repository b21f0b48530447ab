"""Far dates never take the portal down (issue 9): every date and time the portal accepts lies
within core.timebounds (a form error on the field otherwise), and every formatter shows a
value stored outside it (year 9999, year 1) instead of raising OverflowError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import UpdateTaskFactory
from ucfleet.core.timebounds import out_of_range_message
from ucfleet.core.timeutils import format_server_time
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.services import update_window
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.web.templatetags.portal import servertime, time_range

pytestmark = pytest.mark.django_db

LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FIRST_SECOND = datetime(1, 1, 1, tzinfo=UTC)
FAR = ["9999-12-31T22:00", "0001-01-01T00:00", "2101-01-01T00:00", "1999-12-31T12:00"]


def _html(response) -> str:
    return response.content.decode()


def _refused(response) -> bool:
    return out_of_range_message() in _html(response)


# --- rows stored before the bounds existed ----------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(
    "period",
    [
        pytest.param((None, LAST_SECOND), id="end-9999-12-31T23:59:59Z"),
        pytest.param((FIRST_SECOND, None), id="start-0001-01-01"),
    ],
)
def test_a_stored_maintenance_at_the_ends_of_the_calendar_never_takes_the_portal_down(
    period, zone, platform_client, platform_admin
):
    # In server time east of UTC, 9999-12-31T23:59:59Z is past datetime's range; west of
    # UTC, 0001-01-01T00:00Z is before it.
    update_window(platform_admin, time_zone=zone, slots=[], expected_task_minutes=30)
    start, end = period
    maintenance = PlatformMaintenance.objects.create(
        start=start or timezone.now() + timedelta(days=1),
        end=end or timezone.now() + timedelta(days=2),
        message_en="Forever",
    )
    login = Client().get("/login/")
    assert login.status_code == 200
    assert "Forever" in _html(login)
    for url in ("/", "/maintenance/", f"/maintenance/{maintenance.pk}/", "/tasks/"):
        response = platform_client.get(url)
        assert response.status_code == 200, url
    assert "Forever" in _html(platform_client.get(f"/maintenance/{maintenance.pk}/"))


def test_a_stored_task_in_year_9999_is_listed_and_its_postpone_form_opens(
    platform_client, a_tenants, versions, sunday_window
):
    start = LAST_SECOND - timedelta(minutes=29, seconds=59)  # 23:30 UTC: past year 9999 here
    task = UpdateTaskFactory(
        tenant=a_tenants[0],
        target_version=versions["new"],
        timing=Timing.CUSTOM,
        earliest_start=start,
        latest_start=LAST_SECOND,
    )
    assert "9999-12-31" in _html(platform_client.get("/tasks/"))
    assert platform_client.get(f"/tasks/{task.pk}/postpone/").status_code == 200
    # Postponing it to its own start is refused on the field, never a 500.
    response = platform_client.post(f"/tasks/{task.pk}/postpone/", {"start": "9999-12-31T23:30"})
    assert response.status_code == 200
    assert _refused(response)
    task.refresh_from_db()
    assert task.earliest_start == start


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Pacific/Kiritimati"])
def test_formatters_show_values_outside_the_zone_s_range_instead_of_raising(zone):
    tz = ZoneInfo(zone)
    with timezone.override(tz):
        for value in (LAST_SECOND, FIRST_SECOND):
            assert str(value.year) in servertime(value)
            assert str(value.year) in servertime(value, "date")
            assert str(value.year) in format_server_time(value, tz)
        assert "9999" in time_range(FIRST_SECOND, LAST_SECOND)


# --- the forms refuse them, on the field ------------------------------------------------------


@pytest.mark.parametrize("value", FAR)
def test_postpone_refuses_a_far_start_on_the_field(value, platform_client, a_tenants, schedule):
    (task,) = schedule(a_tenants[:1])
    before = task.earliest_start
    response = platform_client.post(f"/tasks/{task.pk}/postpone/", {"start": value})
    assert response.status_code == 200
    assert _refused(response)
    task.refresh_from_db()
    assert task.earliest_start == before and task.timing == Timing.IMMEDIATE


@pytest.mark.parametrize("value", FAR)
def test_bulk_reschedule_refuses_a_far_start(value, platform_client, a_tenants, schedule):
    tasks = schedule(a_tenants[:2])
    response = platform_client.post(
        "/tasks/bulk/",
        {"action": "reschedule", "ids": [t.pk for t in tasks], "start": value},
        follow=True,
    )
    assert response.status_code == 200
    assert _refused(response)
    assert not UpdateTask.objects.filter(timing=Timing.CUSTOM).exists()


@pytest.mark.parametrize("value", FAR)
@pytest.mark.parametrize("action", ["", "confirm"])
def test_wizard_refuses_a_far_custom_time(value, action, platform_client, a_tenants, versions):
    response = platform_client.post(
        "/updates/new/",
        {
            "timing": "custom",
            "start": value,
            "target_version": versions["new"].pk,
            "tenants": [a_tenants[0].pk],
            "action": action,
        },
    )
    assert response.status_code == 200
    assert _refused(response)
    assert not UpdateTask.objects.exists()


@pytest.mark.parametrize("field", ["start", "end"])
@pytest.mark.parametrize("value", FAR)
def test_new_maintenance_refuses_a_far_start_or_end(value, field, platform_client):
    body = {"start": "2030-01-01T00:00", "end": "2030-01-01T04:00", field: value}
    if field == "start" and value > body["end"]:
        body["end"] = value  # so that only the bound is wrong, not the order
    response = platform_client.post("/maintenance/new/", body)
    assert response.status_code == 200
    assert _refused(response)
    assert not PlatformMaintenance.objects.exists()


def test_tenant_test_end_date_is_bounded(platform_client, a_tenants):
    tenant = a_tenants[0]
    response = platform_client.post(
        f"/tenants/{tenant.pk}/",
        {"name": tenant.name, "domain": tenant.domain, "is_test": "on", "test_until": "9999-12-31"},
    )
    assert _refused(response)
    tenant.refresh_from_db()
    assert tenant.test_until is None


def test_postponing_a_task_to_its_own_start_never_answers_500(
    partner_client, partner_admin, a_tenants, schedule
):
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    (task,) = schedule(a_tenants[:1], timing="custom", start=start, notify_partner=True)
    wall = timezone.localtime(task.earliest_start).strftime("%Y-%m-%dT%H:%M")
    for headers in ({}, {"HX-Request": "true"}):
        response = partner_client.post(
            f"/tasks/{task.pk}/postpone/", {"start": wall, "notify_partner": "on"}, headers=headers
        )
        assert response.status_code in (204, 302)
    task.refresh_from_db()
    assert task.earliest_start == start and task.status == Status.PLANNED
