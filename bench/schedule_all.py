"""Benchmark: schedule an update for every tenant of a 100,000-tenant platform.

Prints the time of `schedule_updates(all_tenants=True)`, the process's peak memory, and the
ratio against the floor measured in the same run: a raw `executemany` INSERT of the same task
rows into the same table. Runs on SQLite in a temporary folder, or on the database named by
UCFLEET_DATABASE_URL (a database the benchmark may wipe).

Cases: *immediate* (one period for every task); *capacity* (R23: maintenance window, every
tenant placed in the first occurrence with room for its scale unit and globally, so the
tasks spread over many occurrences); *capacity, 3 waves* (R20 + R23: waves 1 %, 10 %, rest;
wave 1 placed at creation, waves 2 and 3 placed when released — the time counts the creation
and both releases). Each capacity case's floor is the raw insert of its own rows (their own
periods).

    .venv/bin/python bench/schedule_all.py [--tenants 100000] [--case all|immediate|capacity]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import time as clock_time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
os.environ.setdefault("UCFLEET_DATA_DIR", tempfile.mkdtemp(prefix="ucfleet-bench-"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Capacity set-up: 50 scale units with cap 10, a tenth of the tenants without a unit, a
# global cap of 500, a daily window of 4 h with 15 minutes per task: ⌊(240 − 15) / 15⌋ + 1 =
# 16 starts per cap slot, so 160 per unit and 8,000 in all per occurrence.
UNITS, UNIT_CAP, GLOBAL_CAP, WINDOW_MINUTES, TASK_MINUTES = 50, 10, 500, 240, 15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100_000)
    parser.add_argument("--case", choices=["all", "immediate", "capacity"], default="all")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from tests.factories import AdministratorFactory

    from ucfleet.accounts.choices import Profile
    from ucfleet.maintenance.services import SlotInput, update_window
    from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
    from ucfleet.updates.models import UpdateTask

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    admin = AdministratorFactory(username="bench", profile=Profile.PLATFORM)
    from ucfleet.versions.models import SoftwareVersion

    old = SoftwareVersion.objects.create(name="14.9")
    new = SoftwareVersion.objects.create(name="14.10")
    partners = [Partner.objects.create(name=f"Partner {i}") for i in range(20)]
    units = [
        ScaleUnit.objects.create(name=f"su-{i:02d}", max_concurrent_tasks=UNIT_CAP)
        for i in range(UNITS)
    ]
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
                None if i % 10 == 9 else units[i % UNITS].pk,
            )
            for i in range(args.tenants)
        )
        cursor.executemany(
            f"INSERT INTO {Tenant._meta.db_table} (name, domain, partner_id, language, version_id,"
            " description, customer_id, notification_email, is_active, auto_update_allowed,"
            " is_productive, is_nfr, is_test, instance_id, created, updated, scale_unit_id)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            rows,
        )
    settings.UCFLEET["MAX_CONCURRENT_TASKS"] = GLOBAL_CAP
    update_window(
        admin,
        time_zone="UTC",
        slots=[SlotInput(weekdays=list(range(7)), start=clock_time(0, 0), duration_minutes=240)],
        expected_task_minutes=TASK_MINUTES,
    )
    print(
        f"{connection.vendor}: {args.tenants} tenants in 20 partners, {UNITS} scale units "
        f"(cap {UNIT_CAP}), global cap {GLOBAL_CAP}, window daily {WINDOW_MINUTES} min, "
        f"{TASK_MINUTES} min per task"
    )
    bench = Bench(args.tenants, admin, new, UpdateTask, connection, transaction)
    if args.case in ("all", "immediate"):
        bench.case("immediate", timing="immediate")
    if args.case in ("all", "capacity"):
        bench.case("capacity, 1 wave", timing="maintenance_window")
        bench.case(
            "capacity, 3 waves (1 %, 10 %, rest)",
            timing="maintenance_window",
            waves=[{"percent": 1}, {"percent": 10}, {"percent": 100}],
        )
    return 0


class Bench:
    def __init__(self, tenants, admin, version, task_model, connection, transaction) -> None:
        self.tenants, self.admin, self.version = tenants, admin, version
        self.UpdateTask, self.connection, self.transaction = task_model, connection, transaction

    def wipe(self) -> None:
        with self.transaction.atomic(), self.connection.cursor() as cursor:
            for table in ("updates_updatetask", "rollouts_rolloutwave", "rollouts_rollout"):
                cursor.execute(f"DELETE FROM {table}")

    def case(self, name: str, *, timing: str, waves: list | None = None) -> None:
        from ucfleet.rollouts.models import RolloutWave
        from ucfleet.rollouts.releasing import release_wave
        from ucfleet.updates.services import ScheduleRequest, schedule_updates

        self.wipe()
        rss_before = peak_rss_mb()
        request = ScheduleRequest(
            all_tenants=True, timing=timing, target_version=self.version.pk, waves=waves
        )
        started = time.perf_counter()
        result = schedule_updates(self.admin, request)
        created = time.perf_counter() - started
        assert result.created_count == self.tenants, result.created_count
        releases = []
        for wave in RolloutWave.objects.filter(rollout=result.rollout, index__gt=1).order_by(
            "index"
        ):
            began = time.perf_counter()
            released = release_wave(wave.pk)
            releases.append(time.perf_counter() - began)
            assert len(released) == wave.size, (len(released), wave.size)
        service_seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        tasks = self.UpdateTask.objects.filter(request_id=result.request_id)
        assert not tasks.exclude(status="planned").exists()
        periods = tasks.values("earliest_start").distinct().count()
        floor_seconds = self.floor(
            list(
                tasks.values_list(
                    "tenant_id", "partner_id", "from_version_id", "earliest_start", "latest_start"
                )
            ),
            timing,
        )
        detail = f"create {created:.2f} s" + "".join(f" + release {r:.2f} s" for r in releases)
        print(f"-- {name}: {periods} distinct start(s)")
        print(
            f"   schedule_updates(all): {service_seconds:.2f} s ({detail}; "
            f"{self.tenants / service_seconds:,.0f} tasks/s)"
        )
        print(f"   floor (raw executemany of the same rows): {floor_seconds:.2f} s")
        print(f"   ratio: {service_seconds / floor_seconds:.2f}  (aim: < 3)")
        print(
            f"   peak memory (process RSS): {peak:.0f} MB, {peak - rss_before:+.0f} MB during "
            f"this case  (aim: < 300 MB)"
        )

    def floor(self, rows: list, timing: str) -> float:
        """The same task rows, written by one raw executemany in one transaction."""
        from django.utils import timezone

        self.wipe()
        admin_pk, version_pk = self.admin.pk, self.version.pk
        started = time.perf_counter()
        with self.transaction.atomic(), self.connection.cursor() as cursor:
            stamp = timezone.now()
            vendor = self.connection.vendor
            request_id = uuid.uuid4().hex if vendor == "sqlite" else uuid.uuid4()
            cursor.executemany(
                f"INSERT INTO {self.UpdateTask._meta.db_table} (tenant_id, partner_id,"
                " from_version_id, task_type, target_version_id, timing, earliest_start,"
                " latest_start, is_forced, redeploy, notify_partner, notify_customer, status,"
                " is_archived, scheduled_by_id, request_id, created, failure_reason, claimed_by)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    (
                        pk,
                        partner,
                        version,
                        "update",
                        version_pk,
                        timing,
                        earliest,
                        latest,
                        False,
                        False,
                        False,
                        False,
                        "planned",
                        False,
                        admin_pk,
                        request_id,
                        stamp,
                        "",
                        "",
                    )
                    for pk, partner, version, earliest, latest in rows
                ],
            )
        return time.perf_counter() - started


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    sys.exit(main())
