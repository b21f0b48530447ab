"""Trigram indexes for the search of the tenant and task lists (PostgreSQL only).

The search is `icontains` on a tenant's name, domain, customer ID and instance ID, which
PostgreSQL runs as `UPPER(column) LIKE UPPER('%text%')`: no B-tree helps, so every search
read the whole table (2.6 s for the tenant list, 7.4 s for the task list at 1,000,000
tenants). A GIN index of each expression's trigrams (pg_trgm, a trusted extension that
any database owner may create) answers it from the index: 11 ms.

The planner needs statistics of the expressions too (CREATE STATISTICS, PostgreSQL 14+):
without them it guessed 4 % of the tenants for any text, so for a text that matches nothing
it walked the list's order (the name index) to the end looking for 50 rows: 2.3 s instead
of 0.2 ms. SQLite keeps scanning: it is the one-machine database, with far fewer tenants.
"""

from django.db import migrations

COLUMNS = {
    "tenant_name_trgm": "name",
    "tenant_domain_trgm": "domain",
    "tenant_customer_trgm": "customer_id",
    "tenant_instance_trgm": "instance_id",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in COLUMNS.items():
        # The expression exactly as Django writes `icontains`, or the planner ignores it.
        expression = f'UPPER("{column}"::text)'
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON tenants_tenant "
            f"USING gin ({expression} gin_trgm_ops)"
        )
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name}_stats ON ({expression}) FROM tenants_tenant"
        )
    schema_editor.execute("ANALYZE tenants_tenant")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in COLUMNS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}_stats")
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0005_tenant_version_partner_index")]
    operations = [migrations.RunPython(create, drop)]
