"""Benchmark: schedule an update for every tenant of a 1,000,000-tenant platform (issue 13.4).

Prints the time of `schedule_updates(all_tenants=True)`, the process's peak memory, and the
ratio against the floor measured in the same run: a `COPY` of the same task rows into the
same table (PostgreSQL; on SQLite the floor is one executemany). Aim: ratio ≤ 2, peak
< 300 MB.

The platform comes from `ucfleet seed-scale` (run in a child process, so that its memory is
not this process's), reused when the database already holds exactly --tenants tenants.
Both the service and the floor run in a transaction that is rolled back: the database stays
as seeded, and the next run starts from the same state.

    UCFLEET_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ucfleet_scale_1m \
        .venv/bin/python bench/scale.py [--tenants 1000000] [--repeat 1]

The short form (5,000 tenants, any database) runs as the marked test
tests/updates/test_scale_bench.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
os.environ.setdefault("UCFLEET_DATA_DIR", tempfile.mkdtemp(prefix="ucfleet-bench-"))

TARGET = "15.1"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Rollback(Exception):
    pass


@dataclass
class Figures:
    tenants: int
    created: int
    skipped: int
    service_seconds: list[float]
    floor_seconds: list[float]
    peak_mb: float
    baseline_mb: float

    @property
    def ratio(self) -> float:
        return statistics.median(self.service_seconds) / statistics.median(self.floor_seconds)


def ensure_platform(tenants: int, *, in_process: bool = False) -> None:
    """Exactly `tenants` seeded tenants (seed-scale), reused when already there."""
    from django.core.management import call_command

    from ucfleet.tenants.models import Tenant

    if Tenant.objects.count() == tenants:
        return
    call_command("flush", interactive=False, verbosity=0)
    if in_process:
        from ucfleet.scale_seed import seed_scale

        seed_scale(tenants=tenants)
        return
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    subprocess.run(
        [sys.executable, "-m", "ucfleet.cli", "seed-scale", "--tenants", str(tenants)],
        check=True,
        cwd=root,
    )


def bench_admin_and_target() -> tuple[Any, Any]:
    from ucfleet.accounts.choices import Profile
    from ucfleet.accounts.models import Administrator
    from ucfleet.versions.models import SoftwareVersion

    admin = Administrator.objects.filter(username="scale-bench").first()
    if admin is None:
        admin = Administrator.objects.create_user(
            username="scale-bench",
            password=uuid.uuid4().hex,
            email="scale-bench@example.com",
            profile=Profile.PLATFORM,
        )
    target = SoftwareVersion.objects.filter(name=TARGET).first()
    if target is None:
        target = SoftwareVersion(name=TARGET)
        target.save()
    return admin, target


def schedule_all_once(admin: Any, target: Any) -> tuple[float, int, int]:
    """(seconds, created, skipped) of one schedule-all, rolled back afterwards."""
    from django.db import transaction

    from ucfleet.updates.services import ScheduleRequest, schedule_updates

    request = ScheduleRequest(all_tenants=True, timing="immediate", target_version=target.pk)
    outcome: list[Any] = []
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = schedule_updates(admin, request)
            outcome = [time.perf_counter() - started, result.created_count, len(result.skipped)]
            raise Rollback
    except Rollback:
        pass
    return outcome[0], outcome[1], outcome[2]


def floor_rows(admin: Any, target: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The task rows schedule-all writes (the tenants it plans: automatic update allowed,
    no open task), with the same constant columns, as the database stores them."""
    from django.db import connection

    from ucfleet.tenants.models import Tenant
    from ucfleet.updates.choices import OPEN_STATUSES
    from ucfleet.updates.models import UpdateTask

    now = time.time()
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(now, UTC)
    constants = {
        "task_type": "update",
        "target_version_id": target.pk,
        "timing": "immediate",
        "earliest_start": stamp,
        "latest_start": None,
        "is_forced": False,
        "redeploy": False,
        "notify_partner": False,
        "notify_customer": False,
        "status": "planned",
        "is_archived": False,
        "scheduled_by_id": admin.pk,
        "request_id": uuid.uuid4(),
        "created": stamp,
        "failure_reason": "",
        "claimed_by": "",
        "wait_for_idle": True,
    }
    fields = {f.attname: f for f in UpdateTask._meta.concrete_fields}
    fixed = tuple(fields[k].get_db_prep_save(v, connection) for k, v in constants.items())
    open_tenants = UpdateTask.objects.filter(status__in=OPEN_STATUSES).values("tenant_id")
    tenants = (
        Tenant.objects.filter(auto_update_allowed=True)
        .exclude(pk__in=open_tenants)
        .exclude(version_id=target.pk)
        .order_by("pk")
        .values_list("pk", "partner_id", "version_id")
    )
    rows = [(*row, *fixed) for row in tenants.iterator(chunk_size=10_000)]
    return ["tenant_id", "partner_id", "from_version_id", *constants], rows


def copy_floor_once(columns: list[str], rows: list[tuple[Any, ...]]) -> float:
    """Seconds of writing `rows` with COPY (PostgreSQL) or one executemany, rolled back."""
    from django.db import connection, transaction

    from ucfleet.updates.models import UpdateTask

    fields = {f.attname: f for f in UpdateTask._meta.concrete_fields}
    table = connection.ops.quote_name(UpdateTask._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    seconds = 0.0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return seconds


def run(tenants: int, *, repeat: int = 1, in_process_seed: bool = False) -> Figures:
    import gc

    ensure_platform(tenants, in_process=in_process_seed)
    admin, target = bench_admin_and_target()
    gc.collect()
    baseline = peak_rss_mb()
    service, created, skipped = [], 0, 0
    for _ in range(repeat):
        seconds, created, skipped = schedule_all_once(admin, target)
        service.append(seconds)
    peak = peak_rss_mb()
    columns, rows = floor_rows(admin, target)
    assert len(rows) == created, (len(rows), created)
    floor = [copy_floor_once(columns, rows) for _ in range(repeat)]
    return Figures(tenants, created, skipped, service, floor, peak, baseline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (median)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    figures = run(args.tenants, repeat=args.repeat)
    service = statistics.median(figures.service_seconds)
    floor = statistics.median(figures.floor_seconds)
    kind = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(f"{connection.vendor}: {figures.tenants:,} tenants (seed-scale)")
    print(
        f"schedule_updates(all): {service:.2f} s for {figures.created:,} tasks "
        f"({figures.created / service:,.0f} tasks/s), {figures.skipped:,} skipped"
    )
    print(f"floor ({kind} of the same {figures.created:,} rows): {floor:.2f} s")
    print(f"ratio: {figures.ratio:.2f}  (aim: ≤ 2)")
    print(
        f"peak memory (process RSS): {figures.peak_mb:.0f} MB "
        f"({figures.baseline_mb:.0f} MB before scheduling)  (aim: < 300 MB)"
    )
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    sys.exit(main())
