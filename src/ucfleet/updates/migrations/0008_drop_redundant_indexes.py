"""Drop single-column indexes that a composite index already starts with.

Every index of `updatetask` is written on each of a task's two status changes (claim,
completion: docs/worker.md), of `tenant` on each version change, of `taskstep` per step.
The indexes are dropped by name (Django's generated names, the same on every database):
altering the fields' `db_index` would let the schema editor drop any index on exactly that
column, and for `tenant_id` that includes R4's partial unique index one_open_task_per_tenant.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rollouts", "0002_paused_partners_and_budget_bases"),
        ("tenants", "0004_drop_redundant_indexes"),
        ("updates", "0007_task_rollout_status_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="taskstep",
                    name="task",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="steps",
                        to="updates.updatetask",
                    ),
                ),
                migrations.AlterField(
                    model_name="updatetask",
                    name="partner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.partner",
                    ),
                ),
                migrations.AlterField(
                    model_name="updatetask",
                    name="rollout",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tasks",
                        to="rollouts.rollout",
                        verbose_name="rollout",
                    ),
                ),
                migrations.AlterField(
                    model_name="updatetask",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tasks",
                        to="tenants.tenant",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=migrations.RunSQL.noop,
                )
                for name in (
                    "updates_taskstep_task_id_835e4be8",  # task_step_order
                    "updates_updatetask_partner_id_810a6d86",  # task_partner
                    "updates_updatetask_rollout_id_3923993b",  # task_rollout_wave
                    "updates_updatetask_tenant_id_7af2dbd4",  # task_tenant_status
                )
            ],
        ),
    ]
