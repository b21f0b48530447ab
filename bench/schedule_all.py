"""Benchmark: schedule an update for every tenant of a 100,000-tenant platform.

Prints the time of `schedule_updates(all_tenants=True)`, the process's peak memory, and the
ratio against the floor measured in the same run: a raw `executemany` INSERT of the same task
rows into the same table. Runs on SQLite in a temporary folder, or on the database named by
UCFLEET_DATABASE_URL (a database the benchmark may wipe).

    .venv/bin/python bench/schedule_all.py [--tenants 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
os.environ.setdefault("UCFLEET_DATA_DIR", tempfile.mkdtemp(prefix="ucfleet-bench-"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from tests.factories import AdministratorFactory

    from ucfleet.accounts.choices import Profile
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.updates.models import UpdateTask
    from ucfleet.updates.services import ScheduleRequest, schedule_updates
    from ucfleet.versions.models import SoftwareVersion

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    admin = AdministratorFactory(username="bench", profile=Profile.PLATFORM)
    old = SoftwareVersion.objects.create(name="14.9")
    new = SoftwareVersion.objects.create(name="14.10")
    partners = [Partner.objects.create(name=f"Partner {i}") for i in range(20)]
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        rows = (
            (
                f"t{i:06d}",
                f"t{i:06d}.uc.example",
                partners[i % 20].pk,
                "en",
                old.pk,
                "",
                "",
                f"c{i}@x.example",
                True,
                True,
                True,
                False,
                False,
                f"i-{i:016x}",
                now,
                now,
            )
            for i in range(args.tenants)
        )
        cursor.executemany(
            f"INSERT INTO {Tenant._meta.db_table} (name, domain, partner_id, language, version_id,"
            " description, customer_id, notification_email, is_active, auto_update_allowed,"
            " is_productive, is_nfr, is_test, instance_id, created, updated)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            rows,
        )
    print(f"{connection.vendor}: {args.tenants} tenants in 20 partners")
    rss_before = peak_rss_mb()

    request = ScheduleRequest(all_tenants=True, timing="immediate", target_version=new.pk)
    started = time.perf_counter()
    result = schedule_updates(admin, request)
    service_seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    assert result.created_count == args.tenants, result.created_count

    # The floor: the same task rows, written by one raw executemany in one transaction.
    UpdateTask.objects.all().delete()
    tenant_rows = list(Tenant.objects.values_list("pk", "partner_id", "version_id"))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        stamp = timezone.now()
        request_id = uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4()
        cursor.executemany(
            f"INSERT INTO {UpdateTask._meta.db_table} (tenant_id, partner_id, from_version_id,"
            " task_type, target_version_id, timing, earliest_start, latest_start, is_forced,"
            " redeploy, notify_partner, notify_customer, status, is_archived, scheduled_by_id,"
            " request_id, created, failure_reason, claimed_by)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            [
                (
                    pk,
                    partner,
                    version,
                    "update",
                    new.pk,
                    "immediate",
                    stamp,
                    None,
                    False,
                    False,
                    False,
                    False,
                    "planned",
                    False,
                    admin.pk,
                    request_id,
                    stamp,
                    "",
                    "",
                )
                for pk, partner, version in tenant_rows
            ],
        )
    floor_seconds = time.perf_counter() - started

    print(
        f"schedule_updates(all): {service_seconds:.2f} s "
        f"({args.tenants / service_seconds:,.0f} tasks/s)"
    )
    print(f"floor (raw executemany of the same rows): {floor_seconds:.2f} s")
    print(f"ratio: {service_seconds / floor_seconds:.2f}  (aim: < 3)")
    print(
        f"peak memory (process RSS): {peak:.0f} MB, {peak - rss_before:+.0f} MB during "
        f"scheduling  (aim: < 300 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    sys.exit(main())
