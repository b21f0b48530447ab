"""The scheduling services refuse a custom start outside core.timebounds for every caller,
before start + grace can pass datetime's range (issue 9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ucfleet.core.errors import Invalid
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import (
    ScheduleRequest,
    preview_updates,
    reschedule_tasks,
    schedule_updates,
)

pytestmark = pytest.mark.django_db

FAR = [datetime(9999, 12, 31, 22, 0, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC)]


@pytest.mark.parametrize("start", FAR)
def test_schedule_and_reschedule_refuse_a_far_start(start, platform_admin, a_tenants, versions):
    request = ScheduleRequest(
        tenant_ids=[a_tenants[0].pk],
        timing="custom",
        start=start,
        target_version=versions["new"].pk,
    )
    for service in (preview_updates, schedule_updates):
        with pytest.raises(Invalid) as refused:
            service(platform_admin, request)
        assert "start" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        reschedule_tasks(platform_admin, [], start=start, notify_partner=False)
    assert "start" in refused.value.errors
    assert not UpdateTask.objects.exists()
