"""The tenants of a version, of the platform or of one partner, counted from one index.

The version list's counts (versions.queries) were a JOIN of every tenant and a GROUP BY:
340 ms at 1,000,000 tenants. Counted per version, `(version, partner)` answers both scopes
by an index-only scan; it replaces the `(version)` index it starts with.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_drop_redundant_indexes"),
        ("versions", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="tenant",
            index=models.Index(fields=["version", "partner"], name="tenant_version_partner"),
        ),
        migrations.RemoveIndex(model_name="tenant", name="tenant_version"),
    ]
