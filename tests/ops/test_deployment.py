"""The documented deployment (docs/deploy.md) as separate processes on PostgreSQL: two
portals under gunicorn, two workers, a real SMTP server. An update is created through one
portal's API; then one worker is SIGKILLed mid-task and one portal is killed. Nothing is
lost: every task ran exactly once or failed "interrupted: worker lost" and was retried
through the other portal, that portal still answers, and every queued e-mail arrived once."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter

import pytest
import requests

from tests.factories import AdministratorFactory, PartnerFactory, TenantFactory, VersionFactory
from tests.notifications.conftest import SmtpServer, free_port
from tests.ops.processes import Portal
from tests.worker.processes import child_env, start_worker, wait_until
from ucfleet.accounts.choices import Profile
from ucfleet.accounts.tokens import issue_token
from ucfleet.notifications.choices import Status as MailStatus
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.execution import WORKER_LOST
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TENANTS = 10
TTL = 3.0


def deployment_env(tmp_path, smtp_port: int) -> dict[str, str]:
    """The production variables of docs/deploy.md, pointed at this test's database."""
    env = child_env()
    env.update(
        {
            "UCFLEET_SECRET_KEY": "deployment-test-secret-key-0123456789abcdef",
            "UCFLEET_DATA_DIR": str(tmp_path),
            "UCFLEET_LOG_FORMAT": "json",
            "UCFLEET_SMTP_HOST": "127.0.0.1",
            "UCFLEET_SMTP_PORT": str(smtp_port),
            "UCFLEET_MAIL_FROM": "ucfleet <noreply@ucfleet.example>",
            "UCFLEET_DRIVER": "simulated",
            "UCFLEET_SIMULATED_SECONDS": "2.5",
            "UCFLEET_SIMULATED_FAILURE_SHARE": "0",
            "UCFLEET_WORKER_CONCURRENCY": "2",
            "UCFLEET_WORKER_POLL": "0.1",
            "UCFLEET_WORKER_HEARTBEAT": "0.3",
            "UCFLEET_WORKER_TTL": str(TTL),
            # Failure digests close after a second instead of an hour (§9).
            "UCFLEET_FAILURE_DIGEST_SECONDS": "1",
            "UCFLEET_FAILURE_DIGEST_GRACE": "0",
            "UCFLEET_METRICS_TOKEN": "scrape-token",
        }
    )
    return env


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_two_portals_and_two_workers_lose_nothing_when_one_of_each_is_killed(tmp_path):
    partner = PartnerFactory(name="Deploy Partner")
    AdministratorFactory(
        username="deploy-partner", profile=Profile.PARTNER, partner=partner, email="p@deploy.test"
    )
    admin = AdministratorFactory(username="deploy-platform", profile=Profile.PLATFORM)
    old, new = VersionFactory(name="30.1"), VersionFactory(name="30.2")
    tenants = [
        TenantFactory(partner=partner, version=old, name=f"deploy-{i:02d}") for i in range(TENANTS)
    ]
    headers = {"Authorization": f"Token {issue_token(admin).key}"}
    smtp = SmtpServer(free_port())
    smtp.start()
    env = deployment_env(tmp_path, smtp.port)
    portals = [Portal(env=env, log_dir=tmp_path, name=f"portal{i}") for i in range(2)]
    workers = [
        start_worker("--name", f"w{i}", env=env, log_to=tmp_path / f"w{i}.log") for i in range(2)
    ]
    try:
        first, second = portals
        # Both portals up and a worker alive (a loaded machine takes a while to start them).
        assert wait_until(
            lambda: _status(f"{first.url}/readyz") == _status(f"{second.url}/readyz") == 200,
            timeout=120,
            every=0.2,
        ), (tmp_path / "portal0.err").read_text()
        created = requests.post(
            f"{first.url}/api/v1/update-tasks/",
            json={
                "tenants": [t.pk for t in tenants],
                "timing": "immediate",
                "target_version": new.pk,
                "notify_partner": True,
                "notify_customer": True,
            },
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert len(created.json()["created"]) == TENANTS

        # Kill a worker in the middle of its tasks, once the creation e-mails are out (an
        # e-mail in flight at a SIGKILL is the documented at-least-once window).
        victim_busy = wait_until(
            lambda: (
                UpdateTask.objects.filter(status=Status.IN_PROGRESS, claimed_by="w0").exists()
                and not Notification.objects.exclude(status=MailStatus.SENT).exists()
            ),
            timeout=60,
        )
        workers[0].send_signal(signal.SIGKILL)
        assert victim_busy, (tmp_path / "w0.log").read_text()
        os.kill(first.process.pid, signal.SIGKILL)  # the portal's master: its workers follow
        first.process.wait(timeout=30)
        assert wait_until(lambda: _refuses(first.url), timeout=30, every=0.2)

        # The other portal answers throughout; the lost worker's tasks fail after the TTL.
        def settled() -> bool:
            return not UpdateTask.objects.filter(
                status__in=[Status.PLANNED, Status.IN_PROGRESS]
            ).exists()

        assert wait_until(settled, timeout=120, every=0.2)
        lost = list(UpdateTask.objects.filter(status=Status.FAILED))
        assert lost and {t.failure_reason for t in lost} == {WORKER_LOST}
        assert {t.claimed_by for t in lost} == {"w0"}
        for task in lost:
            retried = requests.post(
                f"{second.url}/api/v1/update-tasks/{task.pk}/retry/", headers=headers, timeout=30
            )
            assert retried.status_code in (200, 201), retried.text
        assert wait_until(settled, timeout=120, every=0.2)
        # The lost tasks' failure digest, composed by a worker once its period closed.
        assert wait_until(
            lambda: Notification.objects.filter(kind="failed_partner").exists(), timeout=60
        )
        assert wait_until(
            lambda: not Notification.objects.exclude(status=MailStatus.SENT).exists(),
            timeout=60,
            every=0.2,
        )
        listed = requests.get(
            f"{second.url}/api/v1/update-tasks/?page_size=100", headers=headers, timeout=30
        )
        assert listed.status_code == 200
        ready = requests.get(f"{second.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text  # w1 still lives
    finally:
        stop_all(workers)
        for portal in portals:
            portal.stop()
        smtp.stop()

    # Each tenant was updated exactly once; each task ran in exactly one attempt.
    executed = UpdateTask.objects.filter(status=Status.EXECUTED)
    assert sorted(executed.values_list("tenant_id", flat=True)) == sorted(t.pk for t in tenants)
    for task in executed:
        assert list(task.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.SUCCEEDED]
    for task in lost:
        assert list(task.attempts.values_list("outcome", flat=True)) == [AttemptOutcome.INTERRUPTED]
    assert TaskAttempt.objects.count() == TENANTS + len(lost)
    assert set(t.version_id for t in type(tenants[0]).objects.filter(partner=partner)) == {new.pk}
    assert Worker.objects.get(name="w0").status == WorkerStatus.LOST

    # Every e-mail of the outbox arrived, and none twice.
    # (The Message-ID is the outbox row's idempotency key at the sender's domain.)
    expected = Counter(Notification.objects.values_list("idempotency_key", flat=True))
    received = Counter(m.message_id.strip("<>").rpartition("@")[0] for m in smtp.messages)
    assert set(received) == set(expected)
    assert max(received.values()) == 1, [k for k, v in received.items() if v > 1]
    kinds = Counter(Notification.objects.values_list("kind", flat=True))
    assert kinds["failed_partner"] >= 1  # the partner was told about the lost tasks
    print(
        f"{len(lost)} task(s) lost with w0 and retried; {sum(received.values())} e-mails, "
        f"kinds {dict(kinds)}"
    )


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=30).status_code
    except requests.RequestException:
        return None


def _refuses(url: str) -> bool:
    try:
        requests.get(f"{url}/healthz", timeout=2)
    except requests.ConnectionError:
        return True
    return False
