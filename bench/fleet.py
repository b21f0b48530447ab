"""Fleet makespan: N tenants, a global cap C, every update T seconds in the UC provisioning
simulator (through the `http` driver), on PostgreSQL with 1 and 2 worker processes (R28).

The limit the caps allow is ⌈N/C⌉·T: C tasks at a time, each taking T. The makespan is
measured from the first attempt's start to the last attempt's end as recorded in the
database (process start-up is not counted) and printed as a ratio to that limit, with each
worker's peak RSS and its CPU per task (from the kernel's accounting of the process).
T is the whole task: the simulator's steps (pre-check, backup, update, health check) take
T/4 each. Every run is also checked from both sides: every task executed exactly once (one
attempt in ucfleet, each step exactly once in the simulator's own log) and the cap never
exceeded (ucfleet's attempts and the simulator's operations).

    .venv/bin/python bench/fleet.py                                  # N=20000 C=2000 T=5
    .venv/bin/python bench/fleet.py --tenants 200 --cap 50 --seconds 1 --workers 1,2

PostgreSQL runs in a scratch database `ucfleet_dispatch_fleet` (created and dropped) on the
server of UCFLEET_DATABASE_URL, or postgres://postgres@127.0.0.1:5432 when that is unset.
Exits non-zero when a check fails (the timing goals are printed, not enforced).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "ucfleet_dispatch_fleet"
STEPS = ("pre_check", "backup", "update", "health_check")
GOAL_RATIO, GOAL_RSS_MB = 1.15, 500


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
    import django

    django.setup()


def _prepare(tenants: int) -> None:
    """Fresh tables: `tenants` tenants, each with one due task (no scale unit: the global
    cap is the one that binds)."""
    from django.core.management import call_command
    from django.db import connection

    from ucfleet.audit.models import ChangeLogEntry
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.updates.models import TaskAttempt, TaskStep, UpdateTask
    from ucfleet.versions.models import SoftwareVersion
    from ucfleet.worker.models import Worker

    call_command("migrate", verbosity=0)
    for model in (TaskStep, TaskAttempt, UpdateTask, ChangeLogEntry, Worker, Tenant):
        model.objects.all().delete()
    partner, _ = Partner.objects.get_or_create(name="Fleet Partner")
    old, _ = SoftwareVersion.objects.get_or_create(name="40.1")
    new, _ = SoftwareVersion.objects.get_or_create(name="40.2")
    rows = Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"fleet-{i:06d}",
                domain=f"fleet-{i:06d}.uc.example",
                partner=partner,
                version=old,
                instance_id=f"uc-fleet-{i:06d}",
            )
            for i in range(tenants)
        ),
        batch_size=2000,
    )
    start = datetime.now(UTC) - timedelta(seconds=1)
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
            for t in rows
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _start_simulator(step_seconds: float, log_file: Path) -> tuple[subprocess.Popen, str]:
    ucfleet = Path(sys.executable).with_name("ucfleet")
    process = subprocess.Popen(
        [
            *(str(ucfleet), "simulator", "--port", "0"),
            *("--step-seconds", str(step_seconds), "--log-file", str(log_file)),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")},
    )
    assert process.stdout is not None
    match = re.search(r"(http://[\d.]+:\d+/)", process.stdout.readline())
    if match is None:
        process.kill()
        raise SystemExit("the simulator did not start")
    return process, match.group(1)


def _run_workers(count: int, env: dict[str, str], cap: int) -> list[dict[str, float]]:
    """`count` burst workers to the end; each one's peak RSS and CPU seconds (wait4)."""
    ucfleet = Path(sys.executable).with_name("ucfleet")
    processes = []
    for i in range(count):
        command = [str(ucfleet), "worker", "--burst", "--concurrency", str(cap), "--name"]
        processes.append(
            subprocess.Popen(
                [*command, f"fleet-{i}"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    usage = []
    for p in processes:
        _, status, rusage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode() if p.stderr else ""
        if p.stderr:
            p.stderr.close()
        if p.returncode != 0:
            raise SystemExit(f"worker failed ({p.returncode}):\n{err[-4000:]}")
        usage.append({"rss_mb": rusage.ru_maxrss / 1024, "cpu": rusage.ru_utime + rusage.ru_stime})
    return usage


def _overlap(intervals: list[tuple[object, object]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    open_now = peak = 0
    for _, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def _check(tenants: int, cap: int, log_file: Path) -> tuple[float, list[str]]:
    """The makespan (s) and what is wrong, from ucfleet's tables and the simulator's log."""
    from django.db.models import Count, Max, Min

    from ucfleet.updates.models import TaskAttempt, UpdateTask

    problems = []
    statuses = Counter(UpdateTask.objects.values_list("status", flat=True))
    if statuses != {"executed": tenants}:
        problems.append(f"task statuses {dict(statuses)}, expected {tenants} executed")
    per_task = Counter(
        TaskAttempt.objects.values("task_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    if set(per_task) != {1}:
        problems.append(f"attempts per task {dict(per_task)}, expected exactly 1 each")
    intervals = list(TaskAttempt.objects.values_list("started", "finished"))
    if (peak := _overlap(intervals)) > cap:
        problems.append(f"{peak} attempts overlapped in ucfleet's record, cap {cap}")
    span = TaskAttempt.objects.aggregate(first=Min("started"), last=Max("finished"))
    makespan = (span["last"] - span["first"]).total_seconds()
    durations = sorted((end - start).total_seconds() for start, end in intervals)
    print(
        f"  attempt durations: median {durations[len(durations) // 2]:.3f} s, "
        f"p95 {durations[int(len(durations) * 0.95)]:.3f} s, max {durations[-1]:.3f} s",
        flush=True,
    )
    # The i-th slot to free up is refilled by the (C+i)-th start: the time between is the
    # refill delay (recording the outcome, claiming, starting), the makespan's other part.
    starts, ends = sorted(s for s, _ in intervals), sorted(e for _, e in intervals)
    refill = sorted((starts[i + cap] - ends[i]).total_seconds() for i in range(len(starts) - cap))
    if refill:
        print(
            f"  slot refill delay: median {refill[len(refill) // 2]:.3f} s, "
            f"p95 {refill[int(len(refill) * 0.95)]:.3f} s",
            flush=True,
        )

    runs: dict[int, Counter[str]] = defaultdict(Counter)
    spans: dict[int, list[str]] = defaultdict(list)
    with log_file.open() as lines:
        for line in lines:
            entry = json.loads(line)
            runs[entry["task_id"]][entry["step"]] += 1
            spans[entry["task_id"]] += [entry["started"], entry["finished"]]
            if entry["outcome"] != "succeeded":
                problems.append(f"simulator: {entry['step']} of task {entry['task_id']} failed")
    task_ids = set(UpdateTask.objects.values_list("id", flat=True))
    if set(runs) != task_ids:
        problems.append(f"simulator saw {len(runs)} tasks of {len(task_ids)}")
    twice = [t for t, steps in runs.items() if steps != Counter(dict.fromkeys(STEPS, 1))]
    if twice:
        problems.append(f"simulator: {len(twice)} tasks did not run each step once: {twice[:5]}")
    if (peak := _overlap([(min(s), max(s)) for s in spans.values()])) > cap:
        problems.append(f"{peak} tasks overlapped in the simulator's log, cap {cap}")
    _print_overheads(spans)
    return makespan, problems


def _print_overheads(spans: dict[int, list[str]]) -> None:
    """Where an attempt's time beyond T goes: before its first step reaches the simulator
    (claim to start), after its last step ends (until its outcome is recorded)."""
    from ucfleet.updates.models import TaskAttempt

    def seconds(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    before, after = [], []
    for task_id, started, finished in TaskAttempt.objects.values_list(
        "task_id", "started", "finished"
    ):
        far = [seconds(t) for t in spans.get(task_id, [])]
        if far and finished is not None:
            before.append(min(far) - started.timestamp())
            after.append(finished.timestamp() - max(far))
    for name, values in (("claim to first step", before), ("last step to outcome", after)):
        values.sort()
        if values:
            print(
                f"  {name}: median {values[len(values) // 2]:.3f} s, "
                f"p95 {values[int(len(values) * 0.95)]:.3f} s",
                flush=True,
            )


def _database_child(args: argparse.Namespace, env: dict[str, str]) -> None:
    """In a process with Django set up for the scratch database: one case per worker count."""
    _django(env)
    limit = math.ceil(args.tenants / args.cap) * args.seconds
    failed = False
    for count in args.workers:
        _prepare(args.tenants)
        with tempfile.TemporaryDirectory() as tmp:
            log_file = Path(tmp) / "simulator.jsonl"
            simulator, url = _start_simulator(args.seconds / len(STEPS), log_file)
            try:
                worker_env = {
                    **os.environ,
                    **env,
                    "UCFLEET_DRIVER": "http",
                    "UCFLEET_DRIVER_HTTP_URL": url,
                    "UCFLEET_DRIVER_HTTP_POLL": str(args.poll),
                    "UCFLEET_DRIVER_HTTP_WAIT": str(args.wait),
                    # With waiting requests every step in flight holds a connection.
                    "UCFLEET_DRIVER_HTTP_CONNECTIONS": str(max(256, args.cap)),
                    "UCFLEET_MAX_CONCURRENT_TASKS": str(args.cap),
                    "UCFLEET_WORKER_POLL": "0.2",
                    "UCFLEET_LOG_LEVEL": "WARNING",
                }
                worker_env.setdefault("UCFLEET_DATA_DIR", tmp)
                began = time.monotonic()
                usage = _run_workers(count, worker_env, args.cap)
                wall = time.monotonic() - began
            finally:
                simulator.terminate()
                simulator.wait(timeout=30)
                if simulator.stdout:
                    simulator.stdout.close()
            makespan, problems = _check(args.tenants, args.cap, log_file)
            if args.keep_log:
                shutil.copy(log_file, f"{args.keep_log}.{count}")
        per_task_ms = sum(u["cpu"] for u in usage) / args.tenants * 1e3
        rss = ", ".join(f"{u['rss_mb']:.0f}" for u in usage)
        print(
            f"PostgreSQL {count} worker(s): makespan {makespan:6.2f} s, limit ⌈N/C⌉·T "
            f"{limit:g} s, ratio {makespan / limit:.3f} (goal ≤ {GOAL_RATIO}); "
            f"worker RSS {rss} MB (goal < {GOAL_RSS_MB}); worker CPU {per_task_ms:.2f} ms "
            f"per task; wall {wall:.1f} s",
            flush=True,
        )
        for problem in problems:
            print(f"  CHECK FAILED: {problem}", flush=True)
        failed = failed or bool(problems)
        if not problems:
            print(
                f"  checked: {args.tenants} tasks executed exactly once (ucfleet and the "
                f"simulator's log), at most {args.cap} at once",
                flush=True,
            )
    if failed:
        raise SystemExit(1)


def _postgres_server_url() -> str:
    url = os.environ.get("UCFLEET_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    return url.rsplit("/", 1)[0]


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=20_000, help="N (20,000)")
    parser.add_argument("--cap", type=int, default=2_000, help="global cap C (2,000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="T per task (5 s)")
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="worker process counts to run, comma-separated (1,2)",
    )
    parser.add_argument("--poll", type=float, default=0.2, help="UCFLEET_DRIVER_HTTP_POLL")
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="UCFLEET_DRIVER_HTTP_WAIT: the API holds starts and polls until the operation "
        "ends, at most this long (30; 0: plain polling)",
    )
    parser.add_argument("--database", default=BENCH_DB, help=f"scratch database ({BENCH_DB})")
    parser.add_argument(
        "--keep-log", help="copy the simulator's log of each case to this path + '.<workers>'"
    )
    return parser.parse_args(argv)


def main() -> None:
    args = _arguments()
    print(
        f"fleet: N={args.tenants} tenants, C={args.cap}, T={args.seconds:g} s "
        f"({len(STEPS)} simulator steps of {args.seconds / len(STEPS):g} s), http driver "
        + (
            f"waiting up to {args.wait:g} s per request"
            if args.wait
            else f"polling every {args.poll:g} s"
        )
        + f"; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    # Each worker holds up to C connections' worth of tasks; the simulator one per socket.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import psycopg

    server = _postgres_server_url()
    with psycopg.connect(server + "/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {args.database}")
    env = {"UCFLEET_DATABASE_URL": f"{server}/{args.database}"}
    try:
        child = {k: v for k, v in os.environ.items() if k != "UCFLEET_DATABASE_URL"}
        child.update(env)
        command = [sys.executable, __file__, "database-child", *sys.argv[1:]]
        code = subprocess.run(command, env=child).returncode
    finally:
        with psycopg.connect(server + "/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
    print(f"load {os.getloadavg()[0]:.2f} at the end", flush=True)
    raise SystemExit(code)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    if len(sys.argv) > 1 and sys.argv[1] == "database-child":
        _database_child(
            _arguments(sys.argv[2:]),
            {"UCFLEET_DATABASE_URL": os.environ["UCFLEET_DATABASE_URL"]},
        )
    else:
        main()
