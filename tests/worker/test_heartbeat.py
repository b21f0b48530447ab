"""The heartbeat depends on nothing else the worker does (issue 9, item 6).

Real worker processes on the test database and a real SMTP server (aiosmtpd) that is slow:
the worker running the tasks also drains a big outbox through that relay, while a second
worker process runs recovery with the TTL. No healthy task may be failed as lost.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import PartnerFactory, TenantFactory, UpdateTaskFactory, VersionFactory
from tests.notifications.conftest import SmtpServer, free_port
from tests.worker.processes import child_env, start_worker, wait_until
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.choices import Status as MailStatus
from ucfleet.notifications.models import Notification
from ucfleet.notifications.outbox import Draft, enqueue
from ucfleet.updates.choices import Status
from ucfleet.updates.execution import WORKER_LOST
from ucfleet.updates.models import UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus
from ucfleet.worker.recovery import fail_tasks_of_gone_workers
from ucfleet.worker.runner import WorkerLoop, WorkerSettings


def _due_tasks(partner, n: int) -> None:
    old, new = VersionFactory(name="21.1"), VersionFactory(name="21.2")
    start = timezone.now() - timedelta(seconds=5)
    for i in range(n):
        tenant = TenantFactory(partner=partner, version=old, name=f"busy-{i:02d}")
        UpdateTaskFactory(tenant=tenant, target_version=new, earliest_start=start, created=start)


def _queued_mails(partner, n: int) -> None:
    enqueue(
        Draft(
            kind=Kind.CREATED_PARTNER,
            partner_id=partner.pk,
            recipients=(f"ops-{i}@partner.example",),
            language="en",
            subject=f"Update {i}",
            body="Your tenants will be updated.",
            idempotency_key=f"load.{uuid.uuid4().hex}",
            task_ids=(),
        )
        for i in range(n)
    )


def _env(*, smtp_port: int, ttl: float, heartbeat: float, task_seconds: float) -> dict:
    env = child_env()
    env.update(
        {
            "UCFLEET_SMTP_HOST": "127.0.0.1",
            "UCFLEET_SMTP_PORT": str(smtp_port),
            "UCFLEET_WORKER_TTL": str(ttl),
            "UCFLEET_WORKER_HEARTBEAT": str(heartbeat),
            "UCFLEET_WORKER_POLL": "0.2",
            "UCFLEET_DRIVER": "simulated",
            "UCFLEET_SIMULATED_SECONDS": str(task_seconds),
            "UCFLEET_SIMULATED_FAILURE_SHARE": "0",
            "UCFLEET_MAX_CONCURRENT_TASKS": "20",
            "UCFLEET_LOG_LEVEL": "INFO",
        }
    )
    return env


def _stop(*processes: subprocess.Popen) -> list[int]:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=60))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


def _busy_worker_under_a_slow_relay(
    tmp_path, *, tasks: int, mails: int, relay_seconds: float, ttl: float, heartbeat: float
) -> tuple[SmtpServer, str]:
    """Worker `busy` runs `tasks` tasks while sending `mails` e-mails through a relay that
    answers each after `relay_seconds`; worker `recoverer` recovers lost workers with the
    same TTL. The recoverer stands for the rest of a healthy fleet, whose loops are not
    slow: its relay refuses connections and it retries at once (1 ms back-off), so it
    neither waits for the slow relay nor keeps e-mails from the busy worker.
    Returns the relay and both logs once every task ended."""
    partner = PartnerFactory(name="Busy Partner")
    _due_tasks(partner, tasks)
    _queued_mails(partner, mails)
    relay = SmtpServer(free_port())
    relay.recorder.delay = relay_seconds
    relay.start()
    # Long enough that the tasks outlive the TTL plus a few recovery sweeps.
    task_seconds = ttl + 6 * heartbeat + 4
    busy = start_worker(
        "--name",
        "busy",
        "--concurrency",
        str(tasks),
        env=_env(smtp_port=relay.port, ttl=ttl, heartbeat=heartbeat, task_seconds=task_seconds),
        log_to=tmp_path / "busy.log",
    )
    recoverer = None
    try:
        claimed = wait_until(
            lambda: (
                UpdateTask.objects.filter(status=Status.IN_PROGRESS, claimed_by="busy").count()
                == tasks
            ),
            timeout=60,
        )
        assert claimed, (tmp_path / "busy.log").read_text()
        recoverer = start_worker(
            "--name",
            "recoverer",
            "--concurrency",
            "1",
            env={
                **_env(smtp_port=free_port(), ttl=ttl, heartbeat=heartbeat, task_seconds=0),
                "UCFLEET_WORKER_POLL": "1",
                "UCFLEET_OUTBOX_BACKOFF": "0.001",
                "UCFLEET_OUTBOX_BACKOFF_MAX": "0.001",
            },
            log_to=tmp_path / "recoverer.log",
        )
        ended = wait_until(
            lambda: not UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists(),
            timeout=task_seconds + 60,
            every=0.2,
        )
        assert busy.poll() is None and recoverer.poll() is None  # both ran throughout
    finally:
        codes = _stop(*[p for p in (busy, recoverer) if p is not None])
        relay.stop()
    logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))
    assert ended, logs
    assert codes == [0, 0], logs
    beats = Worker.objects.get(name="busy")
    print(
        f"{len(relay.messages)} e-mails relayed at {relay_seconds:g} s each while {tasks} tasks "
        f"ran {task_seconds:g} s (TTL {ttl:g} s); "
        f"{UpdateTask.objects.filter(failure_reason=WORKER_LOST).count()} failed as lost; "
        f"busy worker {beats.status}"
    )
    return relay, logs


@pytest.mark.django_db(transaction=True)
def test_a_slow_relay_and_a_full_outbox_do_not_make_a_busy_worker_lost(tmp_path):
    # The case: 1 s per message, 300 queued, 20 tasks running, TTL 10 s.
    relay, logs = _busy_worker_under_a_slow_relay(
        tmp_path, tasks=20, mails=300, relay_seconds=1.0, ttl=10.0, heartbeat=2.0
    )
    assert UpdateTask.objects.filter(failure_reason=WORKER_LOST).count() == 0, logs
    assert UpdateTask.objects.filter(status=Status.EXECUTED).count() == 20, logs
    assert "declared lost" not in logs
    assert Worker.objects.get(name="busy").status == WorkerStatus.STOPPED
    # The relay was busy throughout: e-mails went out one per second, the rest waits.
    assert len(relay.messages) >= 10
    assert Notification.objects.filter(status=MailStatus.QUEUED).exists()


@pytest.mark.django_db(transaction=True)
def test_a_single_message_slower_than_the_ttl_does_not_make_a_busy_worker_lost(tmp_path):
    # One SMTP transaction outlasts the whole TTL: only a heartbeat that does not wait for
    # the loop keeps the worker alive.
    relay, logs = _busy_worker_under_a_slow_relay(
        tmp_path, tasks=4, mails=3, relay_seconds=5.0, ttl=3.0, heartbeat=1.0
    )
    assert UpdateTask.objects.filter(failure_reason=WORKER_LOST).count() == 0, logs
    assert UpdateTask.objects.filter(status=Status.EXECUTED).count() == 4, logs
    assert "declared lost" not in logs
    assert len(relay.messages) >= 1


def test_a_ttl_shorter_than_three_heartbeats_is_refused_at_start(tmp_path):
    env = child_env()
    env.update({"UCFLEET_WORKER_TTL": "5", "UCFLEET_WORKER_HEARTBEAT": "2"})
    worker = start_worker("--burst", env=env, log_to=tmp_path / "refused.log")
    code = worker.wait(timeout=60)
    output = (tmp_path / "refused.log").read_text()
    assert code != 0
    assert "UCFLEET_WORKER_TTL (5 s) must be at least 3 heartbeats long" in output
    assert "UCFLEET_WORKER_HEARTBEAT is 2 s" in output


@pytest.mark.django_db(transaction=True)
def test_a_worker_declared_lost_while_alive_registers_again_and_drops_its_late_result(
    make_tasks, ucfleet_settings
):
    ucfleet_settings(SIMULATED_SECONDS=3.0, WORKER_HEARTBEAT_SECONDS=0.2)
    [task] = make_tasks(1)
    loop = WorkerLoop(WorkerSettings.from_settings(name="paused", concurrency=1))
    summaries = []

    def run() -> None:
        try:
            summaries.append(loop.run())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert wait_until(
            lambda: UpdateTask.objects.filter(pk=task.pk, status=Status.IN_PROGRESS).exists(),
            timeout=30,
        )
        # Another worker declared it lost (as after a pause longer than the TTL) and failed
        # the task it held.
        Worker.objects.filter(name="paused").update(status=WorkerStatus.LOST)
        fail_tasks_of_gone_workers(note="declared lost by another worker")
        # The heartbeat thread notices on its next beat and registers the worker again.
        assert wait_until(
            lambda: Worker.objects.filter(name="paused", status=WorkerStatus.ALIVE).exists(),
            timeout=30,
        )
    finally:
        loop.request_stop()
        thread.join(60)
    [summary] = summaries
    assert summary.discarded == [task.pk] and summary.executed == []
    task.refresh_from_db()
    assert (task.status, task.failure_reason) == (Status.FAILED, WORKER_LOST)
    assert Worker.objects.get(name="paused").status == WorkerStatus.STOPPED
