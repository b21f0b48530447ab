"""Bulk paths stay bulk and correct past SQLite's 32,766 bound-variable limit."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.utils import timezone

from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import (
    ScheduleRequest,
    delete_tasks,
    reschedule_tasks,
    schedule_updates,
)

pytestmark = pytest.mark.django_db

COUNT = 33_000  # more ids than stock SQLite binds in one statement (32,766)


@pytest.fixture(autouse=True)
def _stock_sqlite_limit():
    """Debian's SQLite binds up to 250,000 variables; released builds default to 32,766.
    Lower it here so that these tests fail wherever a statement binds every id at once."""
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)


@pytest.fixture
def many_tenants(partner_a, versions):
    Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"bulk-{i:05d}",
                domain=f"bulk-{i:05d}.uc.example",
                partner=partner_a,
                version=versions["current"],
                instance_id=f"i-bulk{i:011d}",
            )
            for i in range(COUNT)
        ),
        batch_size=2000,
    )
    return list(Tenant.objects.filter(partner=partner_a).values_list("pk", flat=True))


def test_schedule_a_selection_larger_than_one_statement(platform_admin, many_tenants, versions):
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            tenant_ids=many_tenants, timing="immediate", target_version=versions["new"].pk
        ),
    )
    assert result.created_count == COUNT


@pytest.fixture
def many_tasks(platform_admin, partner_a, versions):
    Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"bulk-{i:05d}",
                domain=f"bulk-{i:05d}.uc.example",
                partner=partner_a,
                version=versions["current"],
                instance_id=f"i-bulk{i:011d}",
            )
            for i in range(COUNT)
        ),
        batch_size=2000,
    )
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            partner_id=partner_a.pk, timing="immediate", target_version=versions["new"].pk
        ),
    )
    assert result.created_count == COUNT
    return list(result.created.values_list("pk", flat=True))


def test_reschedule_and_delete_a_selection_larger_than_one_statement(platform_admin, many_tasks):
    start = timezone.now() + timedelta(days=3)
    moved = reschedule_tasks(platform_admin, many_tasks, start=start, notify_partner=False)
    assert len(moved.done) == COUNT and not moved.refused
    assert UpdateTask.objects.filter(earliest_start=start).count() == COUNT

    deleted = delete_tasks(platform_admin, many_tasks)
    assert len(deleted.done) == COUNT
    assert UpdateTask.objects.filter(status=Status.CANCELLED).count() == COUNT
