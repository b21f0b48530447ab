"""R23 through the API and the portal: a window request larger than an occurrence's room
spreads over the following occurrences; the preview shows each tenant's date.

Daily 01:00 UTC for L = 100 minutes, d = 30: a unit with cap c = 2 takes
c · (⌊(L − d) / d⌋ + 1) = 6 starts per occurrence.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from tests.factories import ScaleUnitFactory, TenantFactory, UpdateTaskFactory
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import next_task_window
from ucfleet.maintenance.services import SlotInput, update_window
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.updates.models import UpdateTask

BASE = "/api/v1"
L, D, CAP = 100, 30, 2
ROOM = CAP * ((L - D) // D + 1)


@pytest.fixture
def window(platform_admin):
    update_window(
        platform_admin,
        time_zone="UTC",
        slots=[SlotInput(weekdays=list(range(7)), start=time(1, 0), duration_minutes=L)],
        expected_task_minutes=D,
    )
    first = next_task_window(timezone.now())
    second = next_task_window(first.start)
    third = next_task_window(second.start)
    return first, second, third


@pytest.fixture
def many(partner_a, versions):
    unit = ScaleUnitFactory(name="cap-2", max_concurrent_tasks=CAP)
    return [
        TenantFactory(partner=partner_a, version=versions["current"], scale_unit=unit)
        for _ in range(ROOM + 3)
    ]


def z(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def body(tenants, **options):
    return {
        "tenants": [t.pk for t in tenants],
        "timing": "maintenance_window",
        "target_version": "14.10",
        **options,
    }


def test_create_spreads_over_two_occurrences(partner_api, window, many):
    first, second, _ = window
    answer = partner_api.post(f"{BASE}/update-tasks/", body(many), format="json")

    assert answer.status_code == 201, answer.json()
    created = answer.json()["created"]
    assert [t["earliest_start"] for t in created] == [z(first.start)] * ROOM + [z(second.start)] * 3
    assert {t["latest_start"] for t in created} == {
        z(first.end - timedelta(minutes=D)),
        z(second.end - timedelta(minutes=D)),
    }
    listed = partner_api.get(f"{BASE}/update-tasks/?timing=maintenance_window").json()
    assert sorted({t["earliest_start"] for t in listed["results"]}) == [
        z(first.start),
        z(second.start),
    ]


def test_the_global_cap_spreads_likewise(platform_api, window, partner_a, versions, settings):
    settings.UCFLEET = {**settings.UCFLEET, "MAX_CONCURRENT_TASKS": CAP}
    first, second, _ = window
    tenants = [TenantFactory(partner=partner_a, version=versions["current"]) for _ in range(9)]

    answer = platform_api.post(f"{BASE}/update-tasks/", body(tenants), format="json")

    assert answer.status_code == 201, answer.json()
    starts = [t["earliest_start"] for t in answer.json()["created"]]
    assert starts == [z(first.start)] * ROOM + [z(second.start)] * 3


def test_preview_shows_each_tenants_date_counting_planned_tasks_and_maintenance(
    partner_api, window, many, versions
):
    first, second, third = window
    # One planned task already in the first occurrence; the second is blocked.
    UpdateTaskFactory(
        tenant=TenantFactory(partner=many[0].partner, scale_unit=many[0].scale_unit),
        target_version=versions["new"],
        earliest_start=first.start,
    )
    PlatformMaintenance.objects.create(start=second.start, end=second.start + timedelta(hours=1))

    answer = partner_api.post(f"{BASE}/update-tasks/preview/", body(many), format="json")

    assert answer.status_code == 200, answer.json()
    planned = answer.json()["planned"]
    assert [(p["tenant"], p["earliest_start"]) for p in planned] == [
        (t.pk, z(first.start if i < ROOM - 1 else third.start)) for i, t in enumerate(many)
    ]
    assert UpdateTask.objects.count() == 1


def test_no_room_answers_400_and_writes_nothing(platform_api, window, partner_a, versions):
    closed = ScaleUnitFactory(max_concurrent_tasks=0)
    tenant = TenantFactory(partner=partner_a, version=versions["current"], scale_unit=closed)

    answer = platform_api.post(f"{BASE}/update-tasks/", body([tenant]), format="json")

    assert answer.status_code == 400, answer.json()
    assert "timing" in str(answer.json())
    assert not UpdateTask.objects.exists()


def test_the_partner_email_names_both_dates(partner_api, partner_admin, window, many):
    first, second, _ = window
    answer = partner_api.post(
        f"{BASE}/update-tasks/", body(many, notify_partner=True), format="json"
    )
    assert answer.status_code == 201

    [digest] = Notification.objects.filter(kind=Kind.CREATED_PARTNER)
    assert partner_admin.email in digest.recipients
    assert digest.body.count(f"{first.start:%Y-%m-%d %H:%M} UTC") == ROOM
    assert digest.body.count(f"{second.start:%Y-%m-%d %H:%M} UTC") == 3
