"""Dispatch throughput: tasks per second through claim → execute → complete.

The worker (`ucfleet worker --burst --concurrency 500`, real processes, the simulated
driver with 0 s: a no-op, every record written: attempt, its four steps, change log, tenant
version) is measured beside its floor: the raw SQL statements a claim and a completion need
(without the steps' rows), run directly on a DB-API connection by the same number of
processes, with the worker's batch (`--floor-batch 1`: one claim and one completion per
task, issue 13's floor, which writes a transaction per task and is slower than the worker's
batches). Both are timed the same way, from the first attempt's
start to the last attempt's end as recorded in the database, so process start-up is not
counted. Issue 13's goals (3 × the best peer of its side-by-side table) are printed beside.

    .venv/bin/python bench/dispatch.py --tasks 10000        # SQLite 1 worker; PostgreSQL 1/2/4
    .venv/bin/python bench/dispatch.py --tasks 5000 --skip-postgres

PostgreSQL runs in a scratch database `ucfleet_bench_dispatch` (created and dropped) on the
server of UCFLEET_DATABASE_URL, or postgres://postgres@127.0.0.1:5432 when that is unset.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "ucfleet_bench_dispatch"
# Tasks a worker process holds at once (`--concurrency`), and the floor's claim batch: set
# by main() for the child processes through these variables.
CONCURRENCY_VARIABLE, FLOOR_BATCH_VARIABLE = "BENCH_CONCURRENCY", "BENCH_FLOOR_BATCH"
# Issue 13's side-by-side figures on this machine kind (tasks/s, median of 3): the peers
# were not installed here, so the goals are printed beside them, not measured against them.
PEERS = {("PostgreSQL", 2): ("procrastinate", 614), ("SQLite", 1): ("django-tasks-db", 512)}


def _concurrency() -> int:
    return int(os.environ.get(CONCURRENCY_VARIABLE, "500"))


def _floor_batch() -> int:
    return int(os.environ.get(FLOOR_BATCH_VARIABLE, "500"))


LOCK_KEY = 0x75C_F1EE7


def _now() -> datetime:
    return datetime.now(UTC)


# --- inside one database (a child process with Django configured for it) -----------------------


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
    import django

    django.setup()


def _prepare(tasks: int) -> None:
    """Fresh tables: `tasks` tenants on two scale units, each with one due task."""
    from django.core.management import call_command
    from django.db import connection

    from ucfleet.audit.models import ChangeLogEntry
    from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
    from ucfleet.updates.models import TaskAttempt, UpdateTask
    from ucfleet.versions.models import SoftwareVersion
    from ucfleet.worker.models import Worker

    call_command("migrate", verbosity=0)
    TaskAttempt.objects.all().delete()
    UpdateTask.objects.all().delete()
    ChangeLogEntry.objects.all().delete()
    Worker.objects.all().delete()
    Tenant.objects.all().delete()
    partner, _ = Partner.objects.get_or_create(name="Bench Partner")
    old, _ = SoftwareVersion.objects.get_or_create(name="30.1")
    new, _ = SoftwareVersion.objects.get_or_create(name="30.2")
    units = [
        ScaleUnit.objects.get_or_create(name=name, defaults={"max_concurrent_tasks": 1000})[0]
        for name in ("bench-1", "bench-2")
    ]
    tenants = Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"bench-{i:06d}",
                domain=f"bench-{i:06d}.uc.example",
                partner=partner,
                version=old,
                scale_unit=units[i % 2],
                instance_id=f"i-bench{i:06d}",
            )
            for i in range(tasks)
        ),
        batch_size=1000,
    )
    start = _now() - timedelta(seconds=1)
    UpdateTask.objects.bulk_create(
        (
            UpdateTask(
                tenant=t,
                partner=partner,
                target_version=new,
                from_version=old,
                timing="immediate",
                earliest_start=start,
                created=start,
            )
            for t in tenants
        ),
        batch_size=1000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _measure() -> dict[str, float]:
    from django.db.models import Count, Max, Min

    from ucfleet.updates.models import TaskAttempt, UpdateTask

    span = TaskAttempt.objects.aggregate(first=Min("started"), last=Max("finished"))
    executed = UpdateTask.objects.filter(status="executed").count()
    attempts_per_task = set(
        TaskAttempt.objects.values("task_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert attempts_per_task == {1}, f"some task ran twice: {attempts_per_task}"
    seconds = (span["last"] - span["first"]).total_seconds()
    return {"tasks": executed, "seconds": seconds, "per_second": executed / seconds}


def _children(command: list[list[str]], env: dict[str, str]) -> None:
    processes = [
        subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for c in command
    ]
    for p in processes:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"child failed ({p.returncode}):\n{err.decode()}")


def run_case(env: dict[str, str], *, tasks: int, workers: int, kind: str) -> dict[str, float]:
    """One measurement in this (Django-configured) process: prepare, run children, measure."""
    _prepare(tasks)
    child_env = {**os.environ, **env}
    if kind == "worker":
        ucfleet = Path(sys.executable).with_name("ucfleet")
        command = [
            [
                str(ucfleet),
                "worker",
                "--burst",
                "--concurrency",
                str(_concurrency()),
                "--name",
                f"b{i}",
            ]
            for i in range(workers)
        ]
    else:
        command = [[sys.executable, __file__, "floor-child", f"f{i}"] for i in range(workers)]
    _children(command, child_env)
    return _measure()


# --- the floor: raw SQL for claim + completion --------------------------------------------------


class RawDatabase:
    """A DB-API connection with the few statements the floor needs, per database."""

    def __init__(self) -> None:
        url = os.environ.get("UCFLEET_DATABASE_URL", "")
        self.postgres = bool(url)
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
            self.mark = "%s"
        else:
            import sqlite3

            self.conn = sqlite3.connect(
                os.environ["UCFLEET_SQLITE_PATH"], timeout=30, isolation_level=None
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.mark = "?"

    def sql(self, text: str) -> str:
        return text.replace("%s", self.mark)

    def begin(self) -> None:
        self.conn.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def stamp(self, value: datetime) -> object:
        # Django's SQLite backend stores aware datetimes as naive UTC text.
        return value if self.postgres else value.replace(tzinfo=None).isoformat(sep=" ")


def floor_child(name: str) -> None:
    """Claim batches of `_floor_batch()` due tasks and complete them: the statements the worker's
    claim and completion need (same locks, same rows written), without the ORM, the loop,
    the threads or the driver."""
    db = RawDatabase()
    sql, q = db.sql, db.conn.execute
    while True:
        db.begin()
        if db.postgres:
            q(sql("SELECT pg_advisory_xact_lock(%s)"), (LOCK_KEY,))
        at = _now()
        q(  # the caps: what runs per scale unit
            "SELECT t.scale_unit_id, count(*) FROM updates_updatetask u "
            "JOIN tenants_tenant t ON t.id = u.tenant_id "
            "WHERE u.status = 'in_progress' GROUP BY t.scale_unit_id"
        ).fetchall()
        rows = q(
            sql(
                "SELECT u.id, u.tenant_id, u.partner_id, u.target_version_id "
                "FROM updates_updatetask u WHERE u.status = 'planned' AND u.earliest_start <= %s "
                "AND (u.latest_start IS NULL OR u.latest_start >= %s) "
                "ORDER BY u.earliest_start, u.created, u.id LIMIT %s"
                + (" FOR UPDATE SKIP LOCKED" if db.postgres else "")
            ),
            (db.stamp(at), db.stamp(at), _floor_batch()),
        ).fetchall()
        if not rows:
            db.commit()
            return
        ids = [r[0] for r in rows]
        marks = ", ".join([db.mark] * len(ids))
        q(
            sql(
                "UPDATE updates_updatetask SET status = 'in_progress', claimed_by = %s, "
                f"started = %s WHERE status = 'planned' AND id IN ({marks})"
            ),
            (name, db.stamp(at), *ids),
        )
        values = ", ".join([f"({db.mark}, {db.mark}, {db.mark}, 'running', '')"] * len(ids))
        q(
            "INSERT INTO updates_taskattempt (task_id, worker_name, started, outcome, log) "
            f"VALUES {values}",
            [v for i in ids for v in (i, name, db.stamp(at))],
        )
        _log_rows(db, [(r[0], r[2], "start", "status", "planned", "in_progress") for r in rows], at)
        db.commit()
        # The completion of the batch, in one transaction as the worker does it.
        db.begin()
        done = _now()
        q(
            sql(
                "UPDATE updates_updatetask SET status = 'executed', finished = %s "
                f"WHERE status = 'in_progress' AND claimed_by = %s AND id IN ({marks})"
            ),
            (db.stamp(done), name, *ids),
        )
        q(
            sql(f"UPDATE tenants_tenant SET version_id = %s, updated = %s WHERE id IN ({marks})"),
            (rows[0][3], db.stamp(done), *[r[1] for r in rows]),
        )
        db.conn.cursor().executemany(
            sql(
                "UPDATE updates_taskattempt SET outcome = 'succeeded', finished = %s, log = %s "
                "WHERE task_id = %s AND outcome = 'running'"
            ),
            [(db.stamp(done), "pre-check, update, health-check: done", r[0]) for r in rows],
        )
        _log_rows(
            db,
            [
                change
                for task_id, tenant_id, partner_id, _ in rows
                for change in (
                    (task_id, partner_id, "complete", "status", "in_progress", "executed"),
                    (tenant_id, partner_id, "update", "version", "30.1", "30.2"),
                )
            ],
            done,
        )
        db.commit()


def _log_rows(db: RawDatabase, rows: list[tuple], at: datetime) -> None:
    one = "(" + ", ".join([db.mark] * 10) + ")"
    db.conn.execute(
        "INSERT INTO audit_changelogentry (at, actor_id, actor_name, action, object_type, "
        "object_id, field, old, new, partner_id) VALUES " + ", ".join([one] * len(rows)),
        [
            v
            for obj, partner, action, fld, old, new in rows
            for v in (
                db.stamp(at),
                None,
                "system",
                action,
                "tenant" if fld == "version" else "update_task",
                str(obj),
                fld,
                old,
                new,
                partner,
            )
        ],
    )


# --- orchestration -------------------------------------------------------------------------------


def _database_child(env: dict[str, str], tasks: int, workers: list[int], repeat: int) -> None:
    """One database: worker and floor for each worker count, alternating `repeat` times (the
    machine's noise then falls on both); prints the median of each as a JSON line."""
    _django(env)
    for count in workers:
        runs: dict[str, list[dict[str, float]]] = {"worker": [], "floor": []}
        for _ in range(repeat):
            for kind in ("worker", "floor"):
                runs[kind].append(run_case(env, tasks=tasks, workers=count, kind=kind))
        median = {
            kind: sorted(results, key=lambda r: r["per_second"])[len(results) // 2]
            for kind, results in runs.items()
        }
        print(json.dumps({"workers": count, **median}), flush=True)


def _run_database(
    label: str, env: dict[str, str], tasks: int, workers: list[int], repeat: int
) -> None:
    child_env = {k: v for k, v in os.environ.items() if k != "UCFLEET_DATABASE_URL"}
    child_env.update(env)
    command = [sys.executable, __file__, "database-child", json.dumps(env), str(tasks)]
    command += [",".join(map(str, workers)), str(repeat)]
    result = subprocess.run(command, env=child_env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{label} failed:\n{result.stderr[-4000:]}")
    for line in result.stdout.splitlines():
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        w, f = row["worker"], row["floor"]
        print(
            f"{label:<10} {row['workers']} worker(s)  worker {w['per_second']:8.1f} tasks/s   "
            f"floor {f['per_second']:8.1f} tasks/s   ratio {w['per_second'] / f['per_second']:.2f}"
            f"   ({w['tasks']} tasks in {w['seconds']:.2f} s vs {f['seconds']:.2f} s)",
            flush=True,
        )
        if peer := PEERS.get((label, row["workers"])):
            name, rate = peer
            print(
                f"{'':<10} goal ≥ 3 × {name} ({rate} tasks/s in issue 13) = {3 * rate} tasks/s: "
                f"{w['per_second'] / rate:.2f} × {name}",
                flush=True,
            )


def _postgres_server_url() -> str:
    url = os.environ.get("UCFLEET_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    return url.rsplit("/", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median counts")
    parser.add_argument(
        "--concurrency", type=int, default=500, help="tasks a worker process holds (500)"
    )
    parser.add_argument(
        "--floor-batch",
        type=int,
        help="tasks per claim of the floor (default: --concurrency; 1: issue 13's floor, one "
        "claim and one completion per task)",
    )
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 4],
        help="PostgreSQL worker process counts (1,2,4)",
    )
    args = parser.parse_args()
    args.floor_batch = args.floor_batch or args.concurrency
    base = {
        "UCFLEET_DRIVER": "simulated",
        "UCFLEET_SIMULATED_SECONDS": "0",
        "UCFLEET_SIMULATED_FAILURE_SHARE": "0",
        "UCFLEET_MAX_CONCURRENT_TASKS": "1000",
        "UCFLEET_WORKER_POLL": "0.2",
        "UCFLEET_LOG_LEVEL": "WARNING",
        CONCURRENCY_VARIABLE: str(args.concurrency),
        FLOOR_BATCH_VARIABLE: str(args.floor_batch),
    }
    print(
        f"dispatch: {args.tasks} tasks, no-op driver, {args.concurrency} tasks held per worker "
        f"(floor: raw SQL, claim batches of {args.floor_batch}); load "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            env = {
                **base,
                "UCFLEET_SQLITE_PATH": str(Path(tmp) / "bench.sqlite3"),
                "UCFLEET_DATA_DIR": tmp,
            }
            _run_database("SQLite", env, args.tasks, [1], args.repeat)
        if not args.skip_postgres:
            import psycopg

            server = _postgres_server_url()
            with psycopg.connect(server + "/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
                admin.execute(f"CREATE DATABASE {BENCH_DB}")
            try:
                env = {
                    **base,
                    "UCFLEET_DATABASE_URL": f"{server}/{BENCH_DB}",
                    "UCFLEET_DATA_DIR": tmp,
                }
                _run_database("PostgreSQL", env, args.tasks, args.workers, args.repeat)
            finally:
                with psycopg.connect(server + "/postgres", autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    if len(sys.argv) > 1 and sys.argv[1] == "floor-child":
        floor_child(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "database-child":
        _database_child(
            json.loads(sys.argv[2]),
            int(sys.argv[3]),
            [int(n) for n in sys.argv[4].split(",")],
            int(sys.argv[5]),
        )
    else:
        main()
