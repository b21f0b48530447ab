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


INDEXES = {
    "tenant_name_trgm": "name",
    "tenant_domain_trgm": "domain",
    "tenant_customer_trgm": "customer_id",
    "tenant_instance_trgm": "instance_id",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("index", "column"), INDEXES.items())
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


@pytest.mark.django_db
def test_the_planner_has_statistics_of_the_searched_expressions() -> None:
    """Without them it guesses 4 % of the tenants for any text, and for a text that matches
    nothing walks the whole name index looking for a page of rows (2.3 s at 1,000,000)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'tenants_tenant'::regclass"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {f"{index}_stats" for index in INDEXES} <= names
