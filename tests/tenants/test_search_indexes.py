"""On PostgreSQL the tenant search (`icontains`) can be answered from the trigram indexes of
migration tenants 0006: their expressions must be the ones Django writes for the lookup, or
the planner silently reads the whole table again."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import Q

from ucfleet.tenants.models import Tenant

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "index"),
    [
        ("name", "tenant_name_trgm"),
        ("domain", "tenant_domain_trgm"),
        ("customer_id", "tenant_customer_trgm"),
        ("instance_id", "tenant_instance_trgm"),
    ],
)
def test_icontains_can_use_the_trigram_index(column: str, index: str) -> None:
    tenants = Tenant.objects.filter(Q(**{f"{column}__icontains": "alpha"})).order_by()
    sql, params = tenants.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is tiny, so the planner would read it anyway (or walk another index):
        # leave it only bitmap scans, to see whether the index can answer the lookup at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
