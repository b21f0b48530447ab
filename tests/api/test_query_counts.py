"""Every list endpoint answers with the same number of queries for 5 rows as for 200, and
that number is its baseline in tests/query_baselines.json."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.conftest import BASE
from tests.factories import (
    PartnerFactory,
    ScaleUnitFactory,
    TenantFactory,
    UpdateTaskFactory,
    VersionFactory,
)
from tests.query_baselines import expect_queries
from ucfleet.accounts.actors import SYSTEM
from ucfleet.audit.services import Change, record_many
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.notifications.models import Notification
from ucfleet.updates.models import TaskAttempt

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 200
MAINTENANCE_START = timezone.now() + timedelta(days=30)


def TaskAttemptFactory(*, task):
    now = timezone.now()
    return TaskAttempt.objects.create(
        task=task, worker_name="w", started=now, finished=now, outcome="failed", log="pre-check"
    )


def _tasked_tenants(count: int, partner, version, target) -> None:
    for _ in range(count):
        tenant = TenantFactory(partner=partner, version=version, scale_unit=None)
        task = UpdateTaskFactory(
            tenant=tenant,
            target_version=target,
            earliest_start=MAINTENANCE_START + timedelta(minutes=5),
        )
        TaskAttemptFactory(task=task)


def _add(kind: str, count: int, ctx: dict) -> None:
    """Add `count` rows of what the endpoint lists."""
    now = timezone.now()
    if kind == "partners":
        for _ in range(count):
            TenantFactory(partner=PartnerFactory(), version=ctx["version"])
    elif kind == "scale-units":
        for _ in range(count):  # each on a tenant of the partner, so partners see it too
            TenantFactory(
                partner=ctx["partner"], version=ctx["version"], scale_unit=ScaleUnitFactory()
            )
    elif kind == "tenants":
        for _ in range(count):
            tenant = TenantFactory(
                partner=ctx["partner"], version=ctx["version"], scale_unit=ScaleUnitFactory()
            )
            UpdateTaskFactory(tenant=tenant, target_version=ctx["target"])
    elif kind == "versions":
        for _ in range(count):
            TenantFactory(partner=ctx["partner"], version=VersionFactory())
    elif kind == "platform-maintenances":
        for index in range(count):
            start = now + timedelta(days=100 + index)
            PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=1))
    elif kind in ("update-tasks", "conflicts"):
        _tasked_tenants(count, ctx["partner"], ctx["version"], ctx["target"])
    elif kind == "notifications":
        tasks = [
            UpdateTaskFactory(
                tenant=TenantFactory(partner=ctx["partner"], version=ctx["version"]),
                target_version=ctx["target"],
            )
            for _ in range(count)
        ]
        for task in tasks:
            notification = Notification.objects.create(
                kind="created_partner",
                partner=ctx["partner"],
                recipients=["a@b.example"],
                language="en",
                subject="s",
                body="b",
                next_attempt_at=now,
                created=now,
                idempotency_key=f"count-{task.pk}",
            )
            notification.tasks.add(task)
    elif kind == "change-log":
        record_many(
            SYSTEM,
            [
                Change("update", "tenant", i, "description", "", "x", partner_id=ctx["partner"].pk)
                for i in range(count)
            ],
        )


ENDPOINTS = [
    "partners",
    "scale-units",
    "tenants",
    "versions",
    "platform-maintenances",
    "update-tasks",
    "notifications",
    "change-log",
    "conflicts",
]


def _url(kind: str, ctx: dict) -> str:
    if kind == "conflicts":
        return f"{BASE}/platform-maintenances/{ctx['maintenance'].pk}/conflicts/"
    return f"{BASE}/{kind}/"


CASES = [
    (kind, profile)
    for kind in ENDPOINTS
    for profile in ("platform_admin", "partner_admin")
    if (kind, profile) != ("partners", "partner_admin")
]  # a partner sees one partner


@pytest.mark.parametrize(("kind", "profile"), CASES)
def test_list_costs_a_fixed_number_of_queries(
    kind, profile, request, client_for, partner_a, versions
):
    admin = request.getfixturevalue(profile)
    ctx = {
        "partner": partner_a,
        "version": versions["current"],
        "target": versions["new"],
        "maintenance": PlatformMaintenance.objects.create(
            start=MAINTENANCE_START, end=MAINTENANCE_START + timedelta(hours=2)
        ),
    }
    client = client_for(admin)
    url = _url(kind, ctx)

    def count_queries() -> tuple[int, int]:
        client.get(url)  # warm caches that are not per request (content types, …)
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, {"page_size": 500})
        assert answer.status_code == 200, answer.content
        return len(queries), len(answer.json()["results"])

    _add(kind, SMALL, ctx)
    small_queries, small_rows = count_queries()
    _add(kind, LARGE - SMALL, ctx)
    large_queries, large_rows = count_queries()
    assert large_rows - small_rows == LARGE - SMALL
    assert large_queries == small_queries
    expect_queries(f"api GET {kind} list as {admin.profile}", large_queries)


def test_task_detail_costs_the_same_with_many_attempts(platform_api, a_tenants, versions):
    task = UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"])
    TaskAttemptFactory(task=task)
    platform_api.get(f"{BASE}/update-tasks/{task.pk}/")  # warm per-process caches
    with CaptureQueriesContext(connection) as few:
        platform_api.get(f"{BASE}/update-tasks/{task.pk}/")
    for _ in range(30):
        TaskAttemptFactory(task=task)
    with CaptureQueriesContext(connection) as many:
        answer = platform_api.get(f"{BASE}/update-tasks/{task.pk}/")
    assert len(answer.json()["attempts"]) == 31
    assert len(many) == len(few)
    expect_queries("api GET update-tasks detail as platform", len(many))
