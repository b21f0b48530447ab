from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.services import SlotInput, update_window
from ucfleet.updates.services import ScheduleRequest


@pytest.fixture
def sunday_window(platform_admin):
    """Sun 01:00 for 4 h in Europe/Berlin, tasks expected to take 30 minutes."""
    return update_window(
        platform_admin,
        time_zone="Europe/Berlin",
        slots=[SlotInput(weekdays=[6], start=time(1, 0), duration_minutes=240)],
        expected_task_minutes=30,
    )


@pytest.fixture
def maintenance_tomorrow(platform_admin):
    start = timezone.now() + timedelta(days=1)
    return PlatformMaintenance.objects.create(
        start=start,
        end=start + timedelta(hours=3),
        message_en="Database upgrade",
        message_de="Datenbank-Upgrade",
        created_by=platform_admin,
    )


@pytest.fixture
def request_for():
    def make(tenants, version, **options):
        return ScheduleRequest(
            tenant_ids=[t.pk for t in tenants],
            timing=options.pop("timing", "immediate"),
            target_version=version.pk,
            **options,
        )

    return make
