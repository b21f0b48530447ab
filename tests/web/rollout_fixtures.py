"""A rollout over partner A's 3 and partner B's 2 tenants in waves [2, rest], one of A's
tasks executed and one failed (finished some minutes ago)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TenantFactory
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask


def finish(task: UpdateTask, status: str, minutes_ago: int, reason: str = "") -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    UpdateTask.objects.filter(pk=task.pk).update(
        status=status, started=at - timedelta(minutes=2), finished=at, failure_reason=reason
    )


@pytest.fixture
def rollout(schedule, a_tenants, b_tenants):
    tasks = schedule(
        [*a_tenants, *b_tenants], waves=[{"count": 2}, {"percent": 100}], name="Canary 14.10"
    )
    by_tenant = {t.tenant_id: t for t in tasks}
    finish(by_tenant[a_tenants[0].pk], Status.EXECUTED, 20)
    finish(by_tenant[a_tenants[1].pk], Status.FAILED, 10, "Provisioning refused: disk full")
    rollout = tasks[0].rollout
    assert rollout is not None
    return rollout


@pytest.fixture
def a_only_rollout(schedule, partner_a, versions, scale_unit):
    tenant = TenantFactory(partner=partner_a, version=versions["current"], scale_unit=scale_unit)
    [task] = schedule([tenant], name="Only A")
    return task.rollout
