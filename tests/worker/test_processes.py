"""Workers as real processes (`ucfleet worker`) against the test database.

PostgreSQL: 4 processes and 2,000 tasks, each executed exactly once with no cap exceeded;
then one worker SIGKILLed mid-task. Both databases: SIGTERM to a worker process.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from tests.factories import PartnerFactory, ScaleUnitFactory, VersionFactory
from tests.worker.conftest import max_overlap
from tests.worker.processes import child_env, start_worker, wait_until
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import AttemptOutcome, Status, Timing
from ucfleet.updates.execution import WORKER_LOST
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus

on_postgres = bool(os.environ.get("UCFLEET_DATABASE_URL"))
requires_postgres = pytest.mark.skipif(
    not on_postgres,
    reason="multi-process worker tests need PostgreSQL: set UCFLEET_DATABASE_URL="
    "postgres://postgres@127.0.0.1:5432/ucfleet",
)

CAPS = {"fra-1": 2, "fra-2": 3, "ams-1": 4, "ber-1": 5}
GLOBAL_CAP = 12


def _fleet(n: int) -> tuple[list[UpdateTask], dict[int, int]]:
    """`n` tenants round-robin over the scale units, each with one due task."""
    partner = PartnerFactory(name="Fleet Partner")
    old, new = VersionFactory(name="20.1"), VersionFactory(name="20.2")
    units = [ScaleUnitFactory(name=name, max_concurrent_tasks=cap) for name, cap in CAPS.items()]
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"fleet-{i:05d}",
            domain=f"fleet-{i:05d}.uc.example",
            partner=partner,
            version=old,
            scale_unit=units[i % len(units)],
            instance_id=f"i-fleet{i:05d}",
        )
        for i in range(n)
    )
    start = timezone.now() - timedelta(seconds=5)
    tasks = UpdateTask.objects.bulk_create(
        UpdateTask(
            tenant=t,
            partner=partner,
            target_version=new,
            from_version=old,
            timing=Timing.IMMEDIATE,
            earliest_start=start,
            created=start,
        )
        for t in tenants
    )
    return tasks, {u.pk: u.max_concurrent_tasks for u in units}


def _env(tmp_path, **values: str) -> dict[str, str]:
    env = child_env()
    env.update(
        {
            "UCFLEET_DRIVER": "simulated",
            "UCFLEET_SIMULATED_FAILURE_SHARE": "0",
            "UCFLEET_MAX_CONCURRENT_TASKS": str(GLOBAL_CAP),
            "UCFLEET_WORKER_POLL": "0.05",
            "UCFLEET_WORKER_HEARTBEAT": "0.3",
            "UCFLEET_LOG_LEVEL": "WARNING",
        }
    )
    env.update(values)
    return env


def _finish(workers: list[subprocess.Popen], *, timeout: float = 90) -> list[int]:
    codes = []
    for process in workers:
        try:
            codes.append(process.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


def _logs(tmp_path) -> str:
    return "\n".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))


def _overlaps_by_unit() -> tuple[dict[int, int], int]:
    by_unit = defaultdict(list)
    rows = TaskAttempt.objects.values_list("task__tenant__scale_unit_id", "started", "finished")
    for unit, started, finished in rows:
        by_unit[unit].append((started, finished))
    everything = [i for intervals in by_unit.values() for i in intervals]
    return {unit: max_overlap(i) for unit, i in by_unit.items()}, max_overlap(everything)


def _run_fleet(tmp_path, *, tasks: int, workers: int) -> None:
    """`workers` burst processes on `tasks` due tasks: each executed exactly once, no cap
    exceeded (attempt start/end times are the record of what ran when)."""
    _, caps = _fleet(tasks)
    env = _env(tmp_path, UCFLEET_SIMULATED_SECONDS="0.02", UCFLEET_WORKER_TTL="30")
    names = [f"w{i}" for i in range(workers)]
    processes = [
        start_worker(
            "--burst",
            "--concurrency",
            "4",
            "--name",
            name,
            env=env,
            log_to=tmp_path / f"{name}.log",
        )
        for name in names
    ]
    codes = _finish(processes)

    assert codes == [0] * workers, _logs(tmp_path)
    assert UpdateTask.objects.filter(status=Status.EXECUTED).count() == tasks
    per_task = TaskAttempt.objects.values("task_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_task} == {1} and len(per_task) == tasks
    assert set(TaskAttempt.objects.values_list("outcome", flat=True)) == {AttemptOutcome.SUCCEEDED}
    assert not Tenant.objects.exclude(version__name="20.2").exists()
    holders = set(UpdateTask.objects.values_list("claimed_by", flat=True))
    assert holders <= set(names) and len(holders) > 1  # the processes did share the work
    peaks, overall = _overlaps_by_unit()
    print(f"peak concurrency per unit {peaks} (caps {caps}), overall {overall} / {GLOBAL_CAP}")
    assert all(peaks[unit] <= cap for unit, cap in caps.items()), (peaks, caps)
    # Tasks did run side by side, never beyond the cap. How many at once depends on how
    # the 2 cores schedule the processes: an exact peak is a timing (bench/dispatch.py).
    assert 1 < overall <= GLOBAL_CAP
    assert set(Worker.objects.values_list("status", flat=True)) == {WorkerStatus.STOPPED}


@pytest.mark.postgres_only
@requires_postgres
def test_four_worker_processes_execute_2000_tasks_exactly_once_within_the_caps(
    transactional_db, tmp_path
):
    _run_fleet(tmp_path, tasks=2000, workers=4)


@pytest.mark.skipif(on_postgres, reason="the PostgreSQL leg runs the four-process test")
def test_worker_processes_sharing_sqlite_execute_each_task_once_within_the_caps(
    transactional_db, tmp_path
):
    _run_fleet(tmp_path, tasks=160, workers=2)


@pytest.mark.postgres_only
@requires_postgres
def test_a_killed_workers_tasks_fail_as_interrupted_and_the_rest_complete(
    transactional_db, tmp_path
):
    ttl = 3.0
    _fleet(150)
    env = _env(tmp_path, UCFLEET_SIMULATED_SECONDS="0.3", UCFLEET_WORKER_TTL=str(ttl))
    workers = [
        start_worker(
            "--burst",
            "--concurrency",
            "3",
            "--name",
            f"w{i}",
            env=env,
            log_to=tmp_path / f"w{i}.log",
        )
        for i in range(4)
    ]
    victim = workers[0]
    mid_task = wait_until(
        lambda: UpdateTask.objects.filter(status=Status.IN_PROGRESS, claimed_by="w0").count() >= 2,
        timeout=30,
    )
    victim.send_signal(signal.SIGKILL)
    killed_at = timezone.now()
    assert mid_task, _logs(tmp_path)
    codes = _finish(workers)

    assert codes[0] == -signal.SIGKILL and codes[1:] == [0, 0, 0], _logs(tmp_path)
    assert not UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists()
    lost = UpdateTask.objects.filter(status=Status.FAILED)
    assert lost.exists()
    assert set(lost.values_list("claimed_by", "failure_reason")) == {("w0", WORKER_LOST)}
    # Everything else ran to the end, on whichever worker.
    assert UpdateTask.objects.filter(status=Status.EXECUTED).count() == 150 - lost.count()
    assert set(TaskAttempt.objects.filter(task__in=lost).values_list("outcome", flat=True)) == {
        AttemptOutcome.INTERRUPTED
    }
    # Declared lost only after the TTL had passed since its last heartbeat, never earlier.
    last_beat = Worker.objects.get(name="w0").heartbeat
    assert Worker.objects.get(name="w0").status == WorkerStatus.LOST
    detected = [t.finished for t in lost]
    assert min(detected) >= last_beat + timedelta(seconds=ttl)
    print(
        f"{lost.count()} task(s) of the killed worker failed "
        f"{(max(detected) - killed_at).total_seconds():.2f} s after the kill (TTL {ttl:g} s)"
    )


def test_sigterm_stops_a_worker_process_without_leaving_tasks_in_progress(
    transactional_db, tmp_path
):
    _fleet(6)
    env = _env(tmp_path, UCFLEET_SIMULATED_SECONDS="1.0", UCFLEET_WORKER_TTL="30")
    worker = start_worker(
        "--concurrency", "2", "--name", "term", env=env, log_to=tmp_path / "term.log"
    )
    started = wait_until(
        lambda: UpdateTask.objects.filter(status=Status.IN_PROGRESS).count() == 2, timeout=30
    )
    worker.send_signal(signal.SIGTERM)
    [code] = _finish([worker], timeout=30)

    assert started and code == 0, _logs(tmp_path)
    statuses = set(UpdateTask.objects.values_list("status", flat=True))
    assert statuses <= {Status.EXECUTED, Status.PLANNED}
    assert UpdateTask.objects.filter(status=Status.PLANNED).count() >= 4  # no new claims
    for task in UpdateTask.objects.filter(status=Status.PLANNED):
        assert set(task.attempts.values_list("outcome", flat=True)) <= {AttemptOutcome.INTERRUPTED}
    assert Worker.objects.get(name="term").status == WorkerStatus.STOPPED
