"""Failure digests (§9): one e-mail per partner administrator per request (rollout) and hour,
listing the failed tenants and their reasons — through the real worker loop or real worker
processes and a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from tests.factories import TenantFactory, UpdateTaskFactory
from tests.notifications.helpers import close_failure_digests, deliver, partner_admin_of
from tests.worker.processes import child_env, start_worker, wait_until
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.choices import Status as MailStatus
from ucfleet.notifications.failures import compose_due, digest_grace, digest_period
from ucfleet.notifications.models import Notification, PendingFailure
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask
from ucfleet.worker.runner import run_worker

FAILING = {
    "WORKER_POLL_SECONDS": 0.02,
    "WORKER_HEARTBEAT_SECONDS": 0.2,
    "WORKER_CONCURRENCY": 2,
    "DRIVER": "simulated",
    "SIMULATED_SECONDS": 0.0,
    "SIMULATED_FAILURE_SHARE": 1.0,  # every update fails
    "SIMULATED_SEED": 7,
}


def _failing(settings, **extra):
    settings.UCFLEET = {**settings.UCFLEET, **FAILING, **extra}


def _tasks(partner, versions, n, *, request_id, prefix):
    return [
        UpdateTaskFactory(
            tenant=TenantFactory(
                partner=partner,
                version=versions["current"],
                name=f"{prefix}-{i}",
                domain=f"{prefix}-{i}.uc.example",
            ),
            target_version=versions["new"],
            request_id=request_id,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("language", ["en", "de"])
def test_eight_failures_of_one_rollout_give_one_digest_per_partner_admin(
    smtp, settings, partner_a, partner_b, versions, language
):
    partner_a.language = language
    partner_a.save()
    admins = [partner_admin_of(partner_a, f"a{i}").email for i in range(2)]
    partner_admin_of(partner_b, "b-admin")  # another partner: hears nothing
    _failing(settings)
    failed = _tasks(partner_a, versions, 8, request_id=uuid.uuid4(), prefix="alpha")

    run_worker(name="digest-worker", burst=True)

    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.FAILED}
    # The hour is still open: nothing was told yet (today's 16 e-mails are gone).
    assert PendingFailure.objects.filter(claim_token="").count() == 8
    assert not Notification.objects.exists() and smtp.messages == []

    assert close_failure_digests() == 8
    assert deliver() == 2
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == sorted(admins)
    reasons = dict(UpdateTask.objects.values_list("tenant__name", "failure_reason"))
    for mail in smtp.messages:
        if language == "en":
            assert mail.subject == f"Update failed for 8 UC Tenants of {partner_a.name}"
            label = "Reason"
        else:
            assert mail.subject == f"Update fehlgeschlagen für 8 UC-Tenants von {partner_a.name}"
            label = "Grund"
        for name, reason in reasons.items():
            assert f"- {name} ({name}.uc.example):" in mail.body
            assert f"  {label}: {reason}\n" in mail.body
    assert len({m.message_id for m in smtp.messages}) == 2
    notification = Notification.objects.get(recipients=[admins[0]])
    assert sorted(notification.tasks.values_list("pk", flat=True)) == sorted(t.pk for t in failed)

    # Told once: composing again, or the same failures reported again, adds nothing.
    from ucfleet.notifications.services import notify_tasks_failed

    notify_tasks_failed([t.pk for t in failed])
    assert close_failure_digests() == 0
    assert deliver() == 0 and len(smtp.messages) == 2


def test_each_rollout_and_each_hour_has_its_own_digest(smtp, settings, partner_a, versions):
    admin = partner_admin_of(partner_a, "a0").email
    _failing(settings, FAILURE_DIGEST_SECONDS=1, FAILURE_DIGEST_GRACE_SECONDS=0)
    first, second = uuid.uuid4(), uuid.uuid4()
    _tasks(partner_a, versions, 3, request_id=first, prefix="one")
    _tasks(partner_a, versions, 2, request_id=second, prefix="two")
    run_worker(name="w-hour-1", burst=True)
    time.sleep(1.1)  # the next period
    _tasks(partner_a, versions, 4, request_id=first, prefix="later")
    run_worker(name="w-hour-2", burst=True)

    # The second burst's housekeeping already told the first period; the rest now.
    close_failure_digests()
    assert not PendingFailure.objects.filter(claim_token="").exists()
    assert PendingFailure.objects.count() == 9
    deliver()  # (the worker loop sent what it had composed)
    # One digest per (request, period): 3, or more when a burst straddled a period's end.
    groups = Counter(PendingFailure.objects.values_list("request_id", "period"))
    assert len(smtp.messages) == Notification.objects.count() == len(groups) >= 3
    later = set(
        PendingFailure.objects.filter(task__tenant__name__startswith="later").values_list(
            "period", flat=True
        )
    )
    earlier = set(
        PendingFailure.objects.filter(task__request_id=first)
        .exclude(task__tenant__name__startswith="later")
        .values_list("period", flat=True)
    )
    assert min(later) > max(earlier)  # the same rollout, a later hour: its own digest
    assert sorted(n.tasks.count() for n in Notification.objects.all()) == sorted(groups.values())
    assert {r for m in smtp.messages for r in m.rcpt_tos} == {admin}
    assert len({m.message_id for m in smtp.messages}) == len(groups)


def test_digest_waits_for_its_hour_and_its_grace(db, settings, partner_a, versions):
    partner_admin_of(partner_a, "a0")
    _failing(settings)
    _tasks(partner_a, versions, 1, request_id=uuid.uuid4(), prefix="solo")
    run_worker(name="w-wait", burst=True)
    [pending] = PendingFailure.objects.all()
    end = pending.period + digest_period()
    assert compose_due(now=end) == 0  # the hour closed, but a late commit may still come
    assert compose_due(now=end + digest_grace()) == 1
    assert Notification.objects.filter(kind=Kind.FAILED_PARTNER).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_composers_tell_each_failure_exactly_once(partner_a, versions):
    admins = [partner_admin_of(partner_a, f"a{i}") for i in range(2)]
    ids = []
    for r in range(5):
        tasks = _tasks(partner_a, versions, 40, request_id=uuid.uuid4(), prefix=f"r{r}")
        UpdateTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
            status=Status.FAILED, failure_reason="step failed"
        )
        ids += [t.pk for t in tasks]
    from ucfleet.notifications.services import notify_tasks_failed

    notify_tasks_failed(ids)
    later = PendingFailure.objects.first().period + digest_period() + digest_grace()
    told: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def compose() -> None:
        try:
            start.wait()
            told.append(compose_due(now=later))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=compose) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(told) == 200
    links = Counter(Notification.tasks.through.objects.values_list("updatetask_id", flat=True))
    assert set(links) == set(ids) and set(links.values()) == {len(admins)}
    assert Notification.objects.count() == 5 * len(admins)


def _groups() -> int:
    return len(set(PendingFailure.objects.values_list("request_id", "period")))


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_each_digest_once(smtp, partner_a, versions, tmp_path):
    admins = [partner_admin_of(partner_a, f"a{i}").email for i in range(2)]
    for r in range(3):
        _tasks(partner_a, versions, 6, request_id=uuid.uuid4(), prefix=f"p{r}")
    env = child_env()
    env.update(
        UCFLEET_DRIVER="simulated",
        UCFLEET_SIMULATED_SECONDS="0.05",
        UCFLEET_SIMULATED_FAILURE_SHARE="1",
        UCFLEET_WORKER_POLL="0.05",
        UCFLEET_FAILURE_DIGEST_SECONDS="1",
        UCFLEET_FAILURE_DIGEST_GRACE="0",
        UCFLEET_SMTP_HOST="127.0.0.1",
        UCFLEET_SMTP_PORT=str(smtp.port),
        UCFLEET_MAIL_FROM="ucfleet <noreply@ucfleet.example>",
    )
    workers = [
        start_worker("--name", f"w{i}", env=env, log_to=tmp_path / f"w{i}.log") for i in range(2)
    ]
    try:
        done = wait_until(
            lambda: (
                UpdateTask.objects.filter(status=Status.FAILED).count() == 18
                and not PendingFailure.objects.filter(claim_token="").exists()
                and Notification.objects.count() == 2 * _groups()
                and not Notification.objects.exclude(status=MailStatus.SENT).exists()
            ),
            timeout=90,
            every=0.2,
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    logs = "\n".join((tmp_path / f"w{i}.log").read_text() for i in range(2))
    state = (
        list(UpdateTask.objects.values_list("status", flat=True)),
        list(PendingFailure.objects.values_list("request_id", "period", "claim_token")),
        list(Notification.objects.values_list("status", "last_error")),
    )
    assert done, (logs, state)
    # One digest per administrator per (request, period): 3 requests, each within one
    # period or straddling two.
    groups = _groups()
    received = Counter(m.message_id for m in smtp.messages)
    assert len(received) == 2 * groups and set(received.values()) == {1}
    assert Counter(r for m in smtp.messages for r in m.rcpt_tos) == dict.fromkeys(admins, groups)
    # Each failure is in exactly one digest per administrator.
    assert sum(m.body.count("  Reason: ") for m in smtp.messages) == 2 * 18
