"""A partial index for the worker's missed-window sweep (R12): planned tasks that have a
latest start, in the sweep's order. The sweep runs every poll; without this index it walked
every planned task's entry of `task_due` to find none (Immediately tasks have no latest
start). Only windowed planned tasks are in it, so a claim or completion of an Immediately
task does not write it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("updates", "0008_drop_redundant_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="updatetask",
            index=models.Index(
                condition=models.Q(("latest_start__isnull", False), ("status", "planned")),
                fields=["latest_start", "id"],
                name="task_missed_window",
            ),
        ),
    ]
