"""The task list's counts from the index alone (PostgreSQL: INCLUDE columns).

Every task list filters on `is_archived` and the Update list on `task_type`; neither was in
`task_due` (status first) or `task_partner` (partner first), so the bounded count of a
status or of a partner's tasks (core.paging) visited up to 10,001 rows of the table: 18 and
23 ms at 1,000,000 tasks, 1.5 and 2.3 ms with the columns included. The worker's writes
cost the same: each changes the status, an indexed column, so each writes a new entry in
every index anyway. SQLite creates the indexes without the included columns.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("updates", "0010_task_recent_failures_index")]

    operations = [
        migrations.RemoveIndex(model_name="updatetask", name="task_partner"),
        migrations.RemoveIndex(model_name="updatetask", name="task_due"),
        migrations.AddIndex(
            model_name="updatetask",
            index=models.Index(
                fields=["status", "earliest_start", "created", "id"],
                include=("is_archived", "task_type"),
                name="task_due",
            ),
        ),
        migrations.AddIndex(
            model_name="updatetask",
            index=models.Index(
                fields=["partner", "status", "earliest_start"],
                include=("is_archived", "task_type"),
                name="task_partner",
            ),
        ),
    ]
