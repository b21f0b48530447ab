"""Benchmark: one `/metrics` scrape and one CSV export of the task list over N tasks (R29, R31).

Prints the time of a scrape (every metric family, each one aggregate query, through the
portal's real request path) beside the floor measured in the same run: one raw
`SELECT status, COUNT(*) … GROUP BY status` over the same table, the least any scrape that
counts tasks must read. Then the export of every task as CSV (streamed, keyset chunks)
beside a raw read of the same columns. Half of the tasks are finished, so the duration
histogram has rows to count. Runs on SQLite in a temporary folder, or on the database
named by UCFLEET_DATABASE_URL (a database the benchmark may wipe).

    .venv/bin/python bench/metrics_scrape.py [--tasks 100000]
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
os.environ.setdefault("UCFLEET_LOG_LEVEL", "WARNING")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from tests.factories import AdministratorFactory

    from ucfleet.accounts.choices import Profile
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.updates.models import UpdateTask
    from ucfleet.versions.models import SoftwareVersion

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.UCFLEET["METRICS_TOKEN"] = "bench"
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    admin = AdministratorFactory(username="bench", profile=Profile.PLATFORM)
    old = SoftwareVersion.objects.create(name="14.9")
    new = SoftwareVersion.objects.create(name="14.10")
    partner = Partner.objects.create(name="Bench Partner")
    now = timezone.now()
    tenants = Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"t{i:06d}",
                domain=f"t{i:06d}.uc.example",
                partner=partner,
                language="en",
                version=old,
                instance_id=f"i-{i:016x}",
                created=now,
                updated=now,
            )
            for i in range(args.tasks)
        ),
        batch_size=2000,
    )
    statuses = ["executed", "failed", "planned", "executed"]
    UpdateTask.objects.bulk_create(
        (
            UpdateTask(
                tenant=t,
                partner=partner,
                target_version=new,
                from_version=old,
                timing="immediate",
                earliest_start=now - timedelta(minutes=i % 600),
                created=now,
                status=statuses[i % 4],
                started=None if statuses[i % 4] == "planned" else now - timedelta(seconds=i % 900),
                finished=None if statuses[i % 4] == "planned" else now,
            )
            for i, t in enumerate(tenants)
        ),
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{connection.vendor}: {args.tasks} tasks, {args.tasks // 4 * 3} finished")
    client = Client()
    client.force_login(admin)
    client.get("/metrics", HTTP_AUTHORIZATION="Bearer bench")  # warm caches and imports

    started = time.perf_counter()
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer bench")
    scrape_seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    table = connection.ops.quote_name(UpdateTask._meta.db_table)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM {table} GROUP BY status")
        cursor.fetchall()
    floor_seconds = time.perf_counter() - started
    print(f"scrape: {scrape_seconds * 1000:.0f} ms")
    print(f"floor (raw GROUP BY status): {floor_seconds * 1000:.0f} ms")
    print(f"ratio: {scrape_seconds / floor_seconds:.1f}")

    started = time.perf_counter()
    response = client.get("/tasks/all/export/?status=")
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    export_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE status <> 'cancelled'")
        while cursor.fetchmany(2000):
            pass
    read_seconds = time.perf_counter() - started
    print(f"export: {rows} rows in {export_seconds:.2f} s ({rows / export_seconds:,.0f} rows/s)")
    print(f"floor (raw read of the task rows): {read_seconds:.2f} s")
    print(f"ratio: {export_seconds / read_seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    sys.exit(main())
