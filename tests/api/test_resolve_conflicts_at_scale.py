"""Resolving a maintenance's conflicts answers for every task it changed, however many: the
answer is read in chunks, never one `IN (…)` list past SQLite's bound-variable limit."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.api.conftest import BASE
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db

COUNT = 33_000  # more ids than SQLite binds in one statement (32,766 by default)


@pytest.fixture
def sqlite_default_variable_limit():
    """SQLite builds differ (this machine's allows 250,000 variables); the common default
    of 32,766 makes the test mean the same everywhere. PostgreSQL has no such limit."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    before = connection.connection.getlimit(limit)
    connection.connection.setlimit(limit, 32_766)
    yield
    connection.connection.setlimit(limit, before)


@pytest.fixture
def crowded_maintenance(partner_a, versions):
    """A maintenance that COUNT planned custom-time tasks overlap."""
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=4))
    Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"crowd-{i:05d}",
                domain=f"crowd-{i:05d}.uc.example",
                partner=partner_a,
                version=versions["current"],
                instance_id=f"i-crowd{i:010d}",
            )
            for i in range(COUNT)
        ),
        batch_size=2000,
    )
    UpdateTask.objects.bulk_create(
        (
            UpdateTask(
                tenant_id=tenant_id,
                partner=partner_a,
                from_version=versions["current"],
                target_version=versions["new"],
                timing=Timing.CUSTOM,
                earliest_start=start + timedelta(hours=1, minutes=i % 60),
                latest_start=start + timedelta(hours=3),
                status=Status.PLANNED,
                created=timezone.now(),
            )
            for i, tenant_id in enumerate(
                Tenant.objects.filter(name__startswith="crowd-").values_list("pk", flat=True)
            )
        ),
        batch_size=2000,
    )
    return maintenance


def test_deleting_more_conflicts_than_one_statement_binds_answers_every_task(
    platform_api, crowded_maintenance, sqlite_default_variable_limit
):
    url = f"{BASE}/platform-maintenances/{crowded_maintenance.pk}/resolve-conflicts/"

    answer = platform_api.post(url, {"action": "delete"}, format="json")

    assert answer.status_code == 200
    body = answer.json()
    assert body["action"] == "delete" and body["refused"] == []
    tasks = body["tasks"]
    assert len(tasks) == COUNT and {t["status"] for t in tasks} == {"cancelled"}
    assert sorted(t["id"] for t in tasks) == sorted(
        UpdateTask.objects.filter(status=Status.CANCELLED).values_list("pk", flat=True)
    )
    # In list order, across the chunks it was read in.
    order = [(t["earliest_start"], t["id"]) for t in tasks]
    assert order == sorted(order)
