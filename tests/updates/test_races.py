"""R4 under concurrency: two requests for the same tenant, on two database connections.

The second request plans the tenant while the first one's row is still uncommitted, so only
the database can leave it out: `INSERT … ON CONFLICT DO NOTHING` on the open-task unique
index (updates.services.creating). That race needs two concurrent writers: on SQLite the
second request waits for the write lock at BEGIN and then plans after the first committed,
which never reaches the ON CONFLICT path, so this runs on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from ucfleet.updates.choices import OPEN_STATUSES, SkipReason
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import ScheduleRequest, schedule_updates


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_racing_requests_create_one_open_task(platform_admin, a_tenants, versions):
    tenant = a_tenants[0]
    request = ScheduleRequest(
        tenant_ids=[tenant.pk], timing="immediate", target_version=versions["new"].pk
    )
    first_inserted = threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                outcomes["first"] = schedule_updates(platform_admin, request)
                first_inserted.set()
                time.sleep(0.5)  # hold the uncommitted row while the second request runs
        finally:
            first_inserted.set()
            connection.close()

    def second():
        first_inserted.wait(10)
        try:
            outcomes["second"] = schedule_updates(platform_admin, request)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    created = [outcomes[k].created_count for k in ("first", "second")]
    assert created == [1, 0]
    # The path this test is about: the planner did not see the first task (it planned the
    # tenant), and the insert left it out.
    second_plan = outcomes["second"].plan
    assert second_plan.planned_count == 1  # streamed: schedule_updates keeps no list
    assert second_plan.skipped == []
    assert [s.reason for s in outcomes["second"].skipped] == [SkipReason.OPEN_TASK_EXISTS]
    assert UpdateTask.objects.filter(tenant=tenant, status__in=OPEN_STATUSES).count() == 1
