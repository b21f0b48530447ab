"""The task and tenant lists render with 100,000 rows in the database (paginated, indexed,
no query per row). Rows go in with one executemany per table to keep the test fast."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.web.conftest import client_for
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db

ROWS = 100_000


def bulk_insert(
    model: type[models.Model],
    rows: int,
    constants: dict[str, Any],
    varying: Callable[[int], dict[str, Any]],
) -> None:
    """Insert `rows` rows: every concrete field gets its constant or its default, and
    `varying(i)` supplies the per-row values (already what the database stores)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    first = varying(0)
    fixed = {}
    for field in fields:
        if field.attname in first:
            continue
        value = constants[field.attname] if field.attname in constants else field.get_default()
        fixed[field.attname] = field.get_db_prep_save(value, connection)
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
        f"VALUES ({marks})"
    )

    def values() -> Iterable[tuple[Any, ...]]:
        for i in range(rows):
            row = varying(i)
            yield tuple(row[name] if name in row else fixed[name] for name in names)

    if connection.vendor == "postgresql":
        # COPY is PostgreSQL's bulk path: ten times faster than executemany here.
        table = connection.ops.quote_name(model._meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in values():
                copy.write_row(row)
        return
    with connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        for row in values():
            batch.append(row)
            if len(batch) == 10_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


@pytest.fixture
def hundred_thousand(partner_a, versions, scale_unit):
    """100,000 tenants of partner A, each with one update task in a mix of statuses."""
    now = timezone.now()
    stamp = Tenant._meta.get_field("created").get_db_prep_save(now, connection)
    bulk_insert(
        Tenant,
        ROWS,
        {
            "created": now,
            "updated": now,
            "partner_id": partner_a.pk,
            "language": "en",
            "version_id": versions["current"].pk,
            "scale_unit_id": scale_unit.pk,
            "description": "",
            "customer_id": "",
            "notification_email": "",
            "test_until": None,
        },
        lambda i: {
            "name": f"bulk-{i:06d}",
            "domain": f"bulk-{i:06d}.uc.example",
            "instance_id": f"i-bulk{i:012d}",
            "created": stamp,
            "updated": stamp,
        },
    )
    first_id = Tenant.objects.order_by("pk").values_list("pk", flat=True).first()
    statuses = [Status.PLANNED, Status.EXECUTED, Status.FAILED, Status.IN_PROGRESS]
    field = UpdateTask._meta.get_field("earliest_start")
    starts = [field.get_db_prep_save(now + timedelta(hours=h), connection) for h in range(48)]
    bulk_insert(
        UpdateTask,
        ROWS,
        {
            "partner_id": partner_a.pk,
            "task_type": "update",
            "target_version_id": versions["new"].pk,
            "from_version_id": versions["current"].pk,
            "timing": "immediate",
            "created": now,
            "request_id": uuid.uuid4(),
            "latest_start": None,
            "started": None,
            "finished": None,
            "scheduled_by_id": None,
            "retry_of_id": None,
        },
        lambda i: {
            "tenant_id": first_id + i,
            "status": statuses[i % 4],
            "earliest_start": starts[i % 48],
        },
    )
    if connection.vendor == "postgresql":
        # A live database has statistics (autovacuum); a freshly filled one needs them now.
        with connection.cursor() as cursor:
            for model in (Tenant, UpdateTask):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    assert Tenant.objects.count() == ROWS and UpdateTask.objects.count() == ROWS


def _render(client, url) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), len(ctx.captured_queries)


def test_task_and_tenant_lists_render_with_100000_rows(
    hundred_thousand, platform_admin, partner_admin
):
    for admin in (platform_admin, partner_admin):
        client = client_for(admin)
        client.get("/tasks/")
        for url, table in [
            ("/tenants/", "tenant-table"),
            ("/tasks/", "task-table"),
            ("/tasks/all/?status=failed", "task-table"),
            ("/tenants/?marker=scheduled&q=bulk-0999", "tenant-table"),
            ("/tasks/?page=1500", "task-table"),
            ("/", "status-counts"),
        ]:
            page, queries = _render(client, url)
            assert f'data-testid="{table}"' in page
            assert queries < 20, f"{url}: {queries} queries"
        page, _ = _render(client, "/tenants/")
        assert len(re.findall(r'<tr data-tenant="bulk-', page)) == 50
        # Above the exact limit PostgreSQL's count is its estimate, and the page says so.
        estimated = connection.vendor == "postgresql"
        assert (
            ("of about " in page and 'data-testid="count-estimated"' in page)
            if estimated
            else ("of 100000" in page)
        )
        page, _ = _render(client, "/tasks/all/?status=failed")
        assert re.search(r"of about \d+", page) if estimated else "of 25000" in page
