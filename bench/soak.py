"""The chaos soak (issue 13, R28): ucfleet's guarantees while everything around it fails.

PostgreSQL (a throw-away cluster of its own, so restarting it disturbs nobody), 2 worker
processes (`ucfleet worker`) and the e-mail sender (`ucfleet send-outbox`), the UC
provisioning simulator as a real HTTP service behind the `http` driver, and aiosmtpd as the
mail server. TASKS update tasks arrive in 3 requests (`ucfleet schedule --partner …`), one
every 15 % of the chaos window — each a rollout of 3 waves (10 %, 30 %, the rest) when the
command offers `--waves`, plain requests before rollouts existed. Meanwhile:

- the simulator fails the update of 2 % of the tenants (its fault API; each is restored) and
  keeps 5 % busy for a while (R25: those tasks wait and check again);
- a worker is SIGKILLed every ~20 s and started again under its name;
- PostgreSQL is restarted once (`pg_ctl -m immediate`: every connection cut, crash recovery);
- the SMTP server is down for 30 s.

Then the chaos stops, everything drains, and the invariants are checked from both sides
(ucfleet's tables and the simulator's own log, `GET /log?task_id=`): no tenant updated twice
for one task, no task stuck in progress after the TTL, every failure with a known reason,
every e-mail delivered exactly once (Message-IDs), a change-log entry for every transition.
Exit status 0 when all hold.

    .venv/bin/python bench/soak.py --short          # ~2-3 minutes: the test suite's form
    .venv/bin/python bench/soak.py                  # 5,000 tasks, 10 minutes of chaos
    scripts/soak.sh [options]                       # the same, from the repository root
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak_env import Child, Cluster, Simulator, SmtpSink, find_pg_bindir, ucfleet_command

TOKEN = "soak-token"
TTL, HEARTBEAT = 6.0, 1.0


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--short", action="store_true", help="the CI form: 300 tasks, 100 s chaos")
    p.add_argument("--tasks", type=int, help="update tasks (default 5000, --short 300)")
    p.add_argument("--duration", type=float, help="seconds of chaos (default 600, --short 100)")
    p.add_argument("--concurrency", type=int, help="tasks per worker (default 16, --short 8)")
    p.add_argument("--kill-every", type=float, default=20.0, help="seconds between SIGKILLs")
    p.add_argument("--smtp-down", type=float, default=30.0, help="seconds the SMTP server is down")
    p.add_argument("--fail-percent", type=float, default=2.0)
    p.add_argument("--busy-percent", type=float, default=5.0)
    p.add_argument("--port-base", type=int, default=18700, help="3 ports from here")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    args.tasks = args.tasks or (300 if args.short else 5000)
    args.duration = args.duration or (100.0 if args.short else 600.0)
    args.concurrency = args.concurrency or (8 if args.short else 16)
    return args


def _step_seconds(args: argparse.Namespace) -> float:
    """Step length so that the tasks take about 70 % of the window at full concurrency
    (4 steps a task, plus about one poll interval each)."""
    slots = 2 * args.concurrency
    per_task = slots * args.duration * 0.7 / args.tasks
    return round(max(0.05, min(2.0, per_task / 4 - 0.2)), 3)


def _env(args: argparse.Namespace, cluster: Cluster, sim: Simulator, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    env.update(
        {
            "UCFLEET_DATABASE_URL": cluster.url,
            "UCFLEET_DATA_DIR": str(tmp / "data"),
            "UCFLEET_LOG_LEVEL": "WARNING",
            "UCFLEET_DRIVER": "http",
            "UCFLEET_DRIVER_HTTP_URL": sim.url,
            "UCFLEET_DRIVER_HTTP_TOKEN": TOKEN,
            "UCFLEET_DRIVER_HTTP_POLL": "0.2",
            "UCFLEET_WORKER_POLL": "0.2",
            "UCFLEET_WORKER_HEARTBEAT": str(HEARTBEAT),
            "UCFLEET_WORKER_TTL": str(TTL),
            "UCFLEET_MAX_CONCURRENT_TASKS": str(2 * args.concurrency),
            "UCFLEET_BUSY_RECHECK_SECONDS": "2",
            "UCFLEET_SMTP_HOST": "127.0.0.1",
            "UCFLEET_SMTP_PORT": str(args.port_base + 2),
            "UCFLEET_SMTP_TIMEOUT": "5",
            "UCFLEET_MAIL_FROM": "ucfleet@soak.example",
            "UCFLEET_OUTBOX_BACKOFF": "1",
            "UCFLEET_OUTBOX_BACKOFF_MAX": "5",
            "UCFLEET_OUTBOX_CLAIM_TIMEOUT": "20",
        }
    )
    return env


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*ucfleet_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ucfleet {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _sample(url: str) -> tuple[dict[str, int], list[int]] | None:
    """Task counts by status, and the tasks in progress whose holder is not a live worker
    with a heartbeat within the TTL. None while the database is unreachable."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            counts = dict(
                conn.execute(
                    "SELECT status, count(*) FROM updates_updatetask GROUP BY 1"
                ).fetchall()
            )
            orphans = conn.execute(
                "SELECT t.id FROM updates_updatetask t LEFT JOIN worker_worker w "
                "ON w.name = t.claimed_by WHERE t.status = 'in_progress' AND (w.id IS NULL "
                "OR w.status <> 'alive' OR w.heartbeat < now() - make_interval(secs => %s))",
                [TTL],
            ).fetchall()
            return counts, [r[0] for r in orphans]
    except psycopg.Error:
        return None


def _registered(url: str, name: str, pid: int) -> bool:
    """Whether worker `name` registered with `pid` (its row, docs/worker.md Liveness).
    Asked again for a few seconds while the database is unreachable."""
    import psycopg

    for _ in range(20):
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                return bool(
                    conn.execute(
                        "SELECT 1 FROM worker_worker WHERE name = %s AND pid = %s", [name, pid]
                    ).fetchone()
                )
        except psycopg.Error:
            time.sleep(0.5)
    return False


def _outbox_pending(url: str) -> int | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT count(*) FROM notifications_notification "
                "WHERE status IN ('queued', 'sending')"
            ).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return None


def soak(args: argparse.Namespace, tmp: Path) -> int:
    bindir = find_pg_bindir()
    if bindir is None:
        print("soak: no PostgreSQL server binaries (initdb, pg_ctl) found", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    logs = tmp / "logs"
    logs.mkdir()
    cluster = Cluster(bindir, tmp / "pg", args.port_base)
    cluster.init()
    sim = smtp = None
    children: list[Child] = []
    try:
        sim = Simulator(port=args.port_base + 1, token=TOKEN, log_dir=logs)
        step = _step_seconds(args)
        # Busy tenants (R25): the simulator's own draw at each pre-check keeps 5 % of them
        # busy for a few seconds whenever their task comes; the scripted ones below are busy
        # when their request arrives.
        sim.call(
            "PUT",
            "/settings",
            {
                "step_seconds": step,
                "seed": args.seed,
                "busy_percent": args.busy_percent,
                "busy_seconds": 5,
            },
        )
        smtp = SmtpSink(args.port_base + 2)
        smtp.start()
        env = _env(args, cluster, sim, tmp)
        os.environ.update({k: v for k, v in env.items() if k.startswith("UCFLEET_")})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
        _run(env, "migrate", "--verbosity", "0")
        import django

        django.setup()
        import soak_checks
        from django.db import connections

        partners = soak_checks.seed(tasks=args.tasks, requests=3)
        tenants = {p: soak_checks.instance_ids(p) for p in partners}
        connections.close_all()
        everyone = [i for ids in tenants.values() for i in ids]
        faulted = set(rng.sample(everyone, round(len(everyone) * args.fail_percent / 100)))
        busy = set(rng.sample(everyone, round(len(everyone) * args.busy_percent / 100)))
        for instance in faulted:
            sim.call("POST", f"/tenants/{instance}/faults", {"step": "update", "times": 1})

        workers = [
            Child(
                f"worker-{n}",
                ["worker", "--name", f"soak-worker-{n}", "--concurrency", str(args.concurrency)],
                env=env,
                log_dir=logs,
                ready=lambda pid, n=n: _registered(cluster.url, f"soak-worker-{n}", pid),
            )
            for n in (1, 2)
        ]
        sender = Child("sender", ["send-outbox"], env=env, log_dir=logs)
        children = [*workers, sender]
        for child in children:
            child.start()

        rollouts = "--waves" in _run(env, "schedule", "--help")
        began = time.monotonic()
        schedule_at = [0.0, 0.15 * args.duration, 0.30 * args.duration]
        pg_at, smtp_at = 0.45 * args.duration, 0.6 * args.duration
        next_kill = began + args.kill_every
        kills, pg_down, smtp_down_at, scheduled = 0, None, None, 0
        orphan_since: dict[int, float] = {}
        stuck: list[str] = []
        peak_in_progress = 0

        def watch() -> None:
            nonlocal peak_in_progress
            sample = _sample(cluster.url)
            now = time.monotonic()
            if sample is None:
                return
            counts, orphans = sample
            peak_in_progress = max(peak_in_progress, counts.get("in_progress", 0))
            for task_id in list(orphan_since):
                if task_id not in orphans:
                    del orphan_since[task_id]
            for task_id in orphans:
                first = orphan_since.setdefault(task_id, now)
                limit = TTL + 3 * HEARTBEAT + 2  # TTL, one recovery interval, and our sampling
                if now - first > limit and f"task {task_id}" not in " ".join(stuck):
                    stuck.append(f"task {task_id} in progress without a live holder > {limit} s")

        while True:
            now = time.monotonic() - began
            if scheduled < 3 and now >= schedule_at[scheduled]:
                partner = partners[scheduled]
                for instance in tenants[partner]:
                    if instance in busy:
                        sim.call(
                            "POST",
                            f"/tenants/{instance}/faults",
                            {"busy_seconds": 4 + rng.random() * 8, "calls": rng.randint(1, 4)},
                        )
                options = ["--notify-partner"] + (["--notify-customer"] if scheduled == 0 else [])
                if rollouts:  # each request a rollout of 3 waves (R18, R20)
                    options += ["--name", f"soak {scheduled + 1}", "--waves", "10%,30%,rest"]
                _run(
                    env,
                    "schedule",
                    "--partner",
                    partner,
                    "--timing",
                    "immediate",
                    "--target",
                    soak_checks.NEW,
                    "--yes",
                    *options,
                )
                scheduled += 1
            if now >= args.duration and scheduled == 3:
                break
            if time.monotonic() >= next_kill:
                rng.choice(workers).kill()
                kills += 1
                next_kill += args.kill_every * (0.75 + rng.random() / 2)
            if pg_down is None and now >= pg_at:
                pg_down = cluster.restart()
            if smtp_down_at is None and now >= smtp_at:
                smtp.stop()
                smtp_down_at = now
            smtp_back = smtp_down_at is not None and now >= smtp_down_at + args.smtp_down
            if smtp_back and smtp.controller is None:
                smtp.start()
            for child in children:
                child.ensure()
            watch()
            time.sleep(0.5)
        chaos_seconds = time.monotonic() - began
        if smtp.controller is None:
            smtp.start()

        # Drain: no more chaos; wait for every task to end and the outbox to empty.
        drain_limit = max(120.0, args.duration)
        drained = False
        while time.monotonic() - began < chaos_seconds + drain_limit:
            for child in children:
                child.ensure()
            watch()
            sample = _sample(cluster.url)
            pending = _outbox_pending(cluster.url)
            if sample and pending == 0:
                counts = sample[0]
                if not any(counts.get(s) for s in ("planned", "in_progress", "held")):
                    drained = True
                    break
            time.sleep(1)
        total_seconds = time.monotonic() - began
        codes = {child.name: child.stop() for child in children}

        report = soak_checks.Report()
        report.figures.update(
            {
                "tasks requested": args.tasks,
                "requests": "3 rollouts of 3 waves" if rollouts else "3 (plain requests)",
                "worker concurrency": f"2 × {args.concurrency} (global cap {2 * args.concurrency})",
                "simulator step seconds": step,
                "faulted updates (2 %)": len(faulted),
                "busy tenants (5 %)": len(busy),
                "chaos seconds": round(chaos_seconds, 1),
                "total seconds (until drained)": round(total_seconds, 1),
                "drained": drained,
                "SIGKILLs": kills,
                "peak in progress": peak_in_progress,
                "PostgreSQL restart (s down)": round(pg_down or 0, 2),
                "SMTP down (s)": args.smtp_down,
                "process starts": {c.name: c.starts for c in children},
                "unexpected exits (restarted)": {
                    c.name: c.unexpected_exits for c in children if c.unexpected_exits
                },
                "failed starts (restarted)": {
                    c.name: c.failed_starts for c in children if c.failed_starts
                },
                "exit codes at SIGTERM": codes,
            }
        )
        soak_checks.check_all(
            report,
            sim_log=lambda task_id: sim.call("GET", f"/log?task_id={task_id}"),  # type: ignore[arg-type, return-value]
            sim_tenant=lambda instance: sim.call("GET", f"/tenants/{instance}"),  # type: ignore[arg-type, return-value]
            faulted=faulted,
            received=smtp.received,
            stuck_seen=stuck,
        )
        report.check(
            "no process died of the chaos; each stopped cleanly on SIGTERM (exit 0)",
            [f"{c.name} died: {what}" for c in children for what in c.unexpected_exits]
            + [f"{n}: exit {c} on SIGTERM" for n, c in codes.items() if c != 0],
        )
        report.check(
            "everything drained (no task open, no e-mail queued)",
            [] if drained else [f"not drained {drain_limit:.0f} s after the chaos ended"],
        )
        if report.figures["tasks"]:  # type: ignore[truthy-bool]
            done = report.figures["tasks"]
            report.figures["tasks per second (until drained)"] = round(done / total_seconds, 2)  # type: ignore[operator]
        _print(report)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"figures": report.figures, "invariants": report.invariants},
                    indent=2,
                    default=str,
                )
            )
        return 0 if report.ok else 1
    finally:
        for child in children:
            if child.process is not None and child.process.poll() is None:
                child.process.kill()
                child.process.wait()
        if smtp is not None:
            smtp.stop()
        if sim is not None:
            sim.stop()
        with contextlib.suppress(RuntimeError):
            cluster.stop("immediate")


def _print(report) -> None:
    print("== chaos soak: figures")
    for name, value in report.figures.items():
        print(f"  {name}: {value}")
    print("== chaos soak: invariants")
    for name, violations in report.invariants.items():
        print(f"  [{'ok' if not violations else 'FAILED'}] {name}")
        for line in violations[:10]:
            print(f"      {line}")
        if len(violations) > 10:
            print(f"      … and {len(violations) - 10} more")
    print(f"soak: {'all invariants hold' if report.ok else 'INVARIANTS VIOLATED'}")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ucfleet-soak-"))
    os.chmod(tmp, 0o755)  # the server may run as another user (initdb refuses root)
    try:
        return soak(args, tmp)
    finally:
        if args.keep:
            print(f"soak: logs kept in {tmp}")
        else:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    sys.exit(main())
