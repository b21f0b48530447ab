"""Drop single-column indexes that a composite index already starts with.

Every index of `tenant` is written each time an update changes the tenant's version.
The indexes are dropped by name (Django's generated names, the same on every database):
altering the fields' `db_index` would let the schema editor drop any index on exactly that
column.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_tenant_unit_partner_index"),
        ("versions", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="tenant",
                    name="partner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tenants",
                        to="tenants.partner",
                        verbose_name="partner",
                    ),
                ),
                migrations.AlterField(
                    model_name="tenant",
                    name="version",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tenants",
                        to="versions.softwareversion",
                        verbose_name="software version",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=migrations.RunSQL.noop,
                )
                for name in (
                    "tenants_tenant_partner_id_3a074b3c",  # tenant_partner_name
                    "tenants_tenant_version_id_fe9d8140",  # tenant_version
                )
            ],
        ),
    ]
