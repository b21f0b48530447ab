"""Benchmark: reschedule 33,000 planned tasks in one request (R9).

Prints the time of `reschedule_tasks` (compare-and-set, change log, e-mails to the outbox)
beside the floor measured in the same run: a raw `UPDATE … WHERE id IN (…)` of the same
rows' period, chunk by chunk, in one transaction. The ratio is what the service adds on top
of the write itself. Runs on SQLite in a temporary folder, or on the database named by
UCFLEET_DATABASE_URL (a database the benchmark may wipe).

    .venv/bin/python bench/reschedule.py [--tasks 33000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
os.environ.setdefault("UCFLEET_DATA_DIR", tempfile.mkdtemp(prefix="ucfleet-bench-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=33_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from tests.factories import AdministratorFactory

    from ucfleet.accounts.choices import Profile
    from ucfleet.core.cas import CHUNK
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.updates.models import UpdateTask
    from ucfleet.updates.services import ScheduleRequest, reschedule_tasks, schedule_updates
    from ucfleet.versions.models import SoftwareVersion

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    admin = AdministratorFactory(username="bench", profile=Profile.PLATFORM)
    old = SoftwareVersion.objects.create(name="14.9")
    new = SoftwareVersion.objects.create(name="14.10")
    partners = [Partner.objects.create(name=f"Partner {i}") for i in range(20)]
    now = timezone.now()
    Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"t{i:06d}",
                domain=f"t{i:06d}.uc.example",
                partner=partners[i % 20],
                language="en",
                version=old,
                notification_email=f"c{i}@x.example",
                instance_id=f"i-{i:016x}",
                created=now,
                updated=now,
            )
            for i in range(args.tasks)
        ),
        batch_size=2000,
    )
    first_start = now + timedelta(days=2)
    schedule_updates(
        admin,
        ScheduleRequest(
            all_tenants=True, timing="custom", start=first_start, target_version=new.pk
        ),
    )
    ids = list(UpdateTask.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == args.tasks, len(ids)
    print(f"{connection.vendor}: {args.tasks} planned tasks in 20 partners")

    started = time.perf_counter()
    result = reschedule_tasks(admin, ids, start=now + timedelta(days=3), notify_partner=True)
    service_seconds = time.perf_counter() - started
    assert len(result.done) == args.tasks and not result.refused, len(result.done)

    # The floor: the same rows' new period, written by raw UPDATEs in one transaction.
    table = connection.ops.quote_name(UpdateTask._meta.db_table)
    start = connection.ops.adapt_datetimefield_value(now + timedelta(days=4))
    latest = connection.ops.adapt_datetimefield_value(now + timedelta(days=4, minutes=30))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(0, len(ids), CHUNK):
            chunk = ids[offset : offset + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET earliest_start = %s, latest_start = %s, timing = %s"
                f" WHERE status = %s AND id IN ({marks})",
                [start, latest, "custom", "planned", *chunk],
            )
    floor_seconds = time.perf_counter() - started

    print(
        f"reschedule_tasks: {service_seconds:.2f} s ({args.tasks / service_seconds:,.0f} tasks/s)"
    )
    print(f"floor (raw UPDATE of the same rows): {floor_seconds:.2f} s")
    print(f"ratio: {service_seconds / floor_seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    sys.exit(main())
