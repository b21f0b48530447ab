"""Far dates and oversized settings answer 400 naming the field, never 500 (issue 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import BASE
from ucfleet.core.errors import Invalid
from ucfleet.core.timebounds import out_of_range_message
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.services import create_maintenance, update_maintenance
from ucfleet.updates.choices import Timing
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db

MAX_MESSAGE = 2000  # characters of a maintenance message (issue 9)

FAR = [
    "9999-12-31T22:00:00Z",  # start + grace passes year 9999
    "9999-12-31T23:59:59",  # server time
    "0001-01-01T00:00:00",  # no instant east of UTC
    "0001-01-01T00:00:00Z",
    "2101-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
]


def _refused_on(answer, field: str) -> bool:
    body = answer.json()
    return (
        answer.status_code == 400
        and "detail" in body
        and body["errors"].get(field) == [out_of_range_message()]
    )


@pytest.mark.parametrize("value", FAR)
def test_schedule_preview_and_create_refuse_a_far_custom_start(
    value, platform_api, a_tenants, versions
):
    body = {
        "tenants": [a_tenants[0].pk],
        "timing": "custom",
        "start": value,
        "target_version": versions["new"].pk,
    }
    for path in ("/update-tasks/preview/", "/update-tasks/"):
        answer = platform_api.post(f"{BASE}{path}", body, format="json")
        assert _refused_on(answer, "start"), (path, answer.json())
    assert not UpdateTask.objects.exists()


@pytest.mark.parametrize("value", FAR)
def test_reschedule_one_and_many_refuse_a_far_start(value, partner_api, a_tenants, task_of):
    tasks = [task_of(t) for t in a_tenants[:2]]
    one = partner_api.post(
        f"{BASE}/update-tasks/{tasks[0].pk}/reschedule/", {"start": value}, format="json"
    )
    assert _refused_on(one, "start"), one.json()
    many = partner_api.post(
        f"{BASE}/update-tasks/reschedule/",
        {"ids": [t.pk for t in tasks], "start": value},
        format="json",
    )
    assert _refused_on(many, "start"), many.json()
    assert not UpdateTask.objects.filter(timing=Timing.CUSTOM).exists()


@pytest.mark.parametrize("field", ["start", "end"])
@pytest.mark.parametrize("value", FAR)
def test_platform_maintenance_refuses_a_far_start_or_end(value, field, platform_api):
    body = {"start": "2030-01-01T00:00:00Z", "end": "2030-01-01T04:00:00Z", field: value}
    answer = platform_api.post(f"{BASE}/platform-maintenances/", body, format="json")
    assert _refused_on(answer, field), answer.json()
    assert not PlatformMaintenance.objects.exists()


def test_changing_a_maintenance_to_a_far_end_is_refused(platform_api):
    start = timezone.now() + timedelta(days=1)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=2))
    answer = platform_api.patch(
        f"{BASE}/platform-maintenances/{maintenance.pk}/",
        {"end": "9999-12-31T23:59:59Z"},
        format="json",
    )
    assert _refused_on(answer, "end"), answer.json()
    maintenance.refresh_from_db()
    assert maintenance.end == start + timedelta(hours=2)


def test_the_service_refuses_far_maintenances_for_every_caller(platform_admin):
    # The API and the portal check first; the service holds the rule for any other caller.
    from datetime import UTC, datetime

    soon = timezone.now() + timedelta(days=1)
    for start, end, field in (
        (soon, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "end"),
        (datetime(1, 1, 1, tzinfo=UTC), soon, "start"),
    ):
        with pytest.raises(Invalid) as refused:
            create_maintenance(platform_admin, start=start, end=end)
        assert field in refused.value.errors
    assert not PlatformMaintenance.objects.exists()


def test_change_log_and_tenant_dates_are_bounded_too(platform_api, a_tenants):
    since = platform_api.get(f"{BASE}/change-log/", {"since": "0001-01-01T00:00:00"})
    assert _refused_on(since, "since"), since.json()
    tenant = a_tenants[0]
    answer = platform_api.patch(
        f"{BASE}/tenants/{tenant.pk}/", {"is_test": True, "test_until": "9999-12-31"}, format="json"
    )
    assert _refused_on(answer, "test_until"), answer.json()
    tenant.refresh_from_db()
    assert tenant.test_until is None


# --- maintenance messages: at most 2,000 characters ------------------------------------------


def test_maintenance_messages_are_capped_by_the_service(platform_admin, platform_api):
    start = timezone.now() + timedelta(days=1)
    long = "x" * (MAX_MESSAGE + 1)
    for name in ("message_en", "message_de"):
        with pytest.raises(Invalid) as refused:
            create_maintenance(
                platform_admin, start=start, end=start + timedelta(hours=1), **{name: long}
            )
        assert name in refused.value.errors
    maintenance = create_maintenance(
        platform_admin, start=start, end=start + timedelta(hours=1), message_en="x" * MAX_MESSAGE
    )
    with pytest.raises(Invalid):
        update_maintenance(platform_admin, maintenance.pk, message_de=long)
    answer = platform_api.post(
        f"{BASE}/platform-maintenances/",
        {
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "message_en": long,
        },
        format="json",
    )
    assert answer.status_code == 400 and "message_en" in answer.json()["errors"]
    assert PlatformMaintenance.objects.count() == 1
    maintenance.refresh_from_db()
    assert maintenance.message_de == ""


# --- the expected task duration fits in every recurrence of the window ------------------------


def test_window_refuses_an_expected_duration_longer_than_a_slot(platform_api):
    body = {
        "time_zone": "Europe/Berlin",
        "expected_task_minutes": 241,
        "slots": [
            {"weekdays": [6], "start": "01:00", "duration_minutes": 480},
            {"weekdays": [2], "start": "01:00", "duration_minutes": 240},
        ],
    }
    answer = platform_api.put(f"{BASE}/maintenance-window/", body, format="json")
    assert answer.status_code == 400
    assert "expected_task_minutes" in answer.json()["errors"], answer.json()
    assert platform_api.get(f"{BASE}/maintenance-window/").json()["expected_task_minutes"] == 30
    body["expected_task_minutes"] = 240
    assert platform_api.put(f"{BASE}/maintenance-window/", body, format="json").status_code == 200
