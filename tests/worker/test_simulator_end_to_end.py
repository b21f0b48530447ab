"""R24–R27 end to end: a `ucfleet worker` process drives the UC provisioning simulator
(`ucfleet simulator`, its own process) through the http driver, against the test database.

Faults and busy periods are scripted through the simulator's public endpoints; its own log
(`GET /log?task_id=`) is the far side's record of what ran, so every test also checks that
each executed task updated its tenant exactly once.
"""

from __future__ import annotations

import re
import signal
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import AdministratorFactory, UpdateTaskFactory
from tests.notifications.helpers import close_failure_digests
from tests.worker.processes import SimulatorProcess, child_env, start_worker, wait_until
from tests.worker.test_missed_windows import _daily_window
from ucfleet.accounts.choices import Profile
from ucfleet.maintenance.queries import next_task_window
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.notifications.queries import notifications_visible_to
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import AttemptOutcome, Status, Timing
from ucfleet.updates.models import TaskStep, UpdateTask
from ucfleet.updates.planning import ScheduleRequest
from ucfleet.updates.services import schedule_updates

TOKEN = "sim-token"
STEPS = ["pre_check", "backup", "update", "health_check"]
RESTORED = {"update", "redeploy", "health_check"}

pytestmark = pytest.mark.django_db(transaction=True)


class EndToEnd:
    """The simulator process, and worker processes pointed at it."""

    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.sim = SimulatorProcess(token=TOKEN, step_seconds=0.05, log_to=tmp_path / "sim.log")

    def worker_env(self, **values: str) -> dict[str, str]:
        env = child_env()
        env.update(
            {
                "UCFLEET_DRIVER": "http",
                "UCFLEET_DRIVER_HTTP_URL": self.sim.url,
                "UCFLEET_DRIVER_HTTP_TOKEN": TOKEN,
                "UCFLEET_DRIVER_HTTP_POLL": "0.05",
                "UCFLEET_WORKER_POLL": "0.05",
                "UCFLEET_WORKER_HEARTBEAT": "0.3",
                "UCFLEET_BUSY_RECHECK_SECONDS": "1",
                "UCFLEET_DATA_DIR": str(self.tmp_path),  # the demo mail backend writes here
                "UCFLEET_LOG_LEVEL": "WARNING",
            }
        )
        env.update(values)
        return env

    def run_worker_until(self, condition, *, timeout: float = 60, **env: str) -> None:
        """A worker process (not burst: waiting tasks are not due) until `condition()`,
        then SIGTERM; it must stop cleanly."""
        log = self.tmp_path / "worker.log"
        worker = start_worker("--name", "e2e", env=self.worker_env(**env), log_to=log)
        try:
            reached = wait_until(condition, timeout=timeout, every=0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                code = worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                code = worker.wait()
        assert reached, log.read_text() + (self.tmp_path / "sim.log").read_text()
        assert code == 0, log.read_text()

    def far_side(self, task: UpdateTask) -> list[tuple[str, str]]:
        """(step, outcome) of every step the simulator ran for `task`, in start order."""
        return [(e["step"], e["outcome"]) for e in self.sim.log(task.pk)]

    def tenant(self, task: UpdateTask) -> dict:
        return self.sim.get(f"/tenants/{task.tenant.instance_id}")  # type: ignore[return-value]


@pytest.fixture
def e2e(tmp_path):
    setup = EndToEnd(tmp_path)
    yield setup
    setup.sim.stop()


def _task(versions, partner, **fields) -> UpdateTask:
    from tests.factories import TenantFactory

    tenant = TenantFactory(partner=partner, version=versions["current"])
    return UpdateTaskFactory(tenant=tenant, target_version=versions["new"], **fields)


def _ended(*tasks: UpdateTask):
    ids = [t.pk for t in tasks]
    return lambda: (
        UpdateTask.objects.filter(pk__in=ids, status__in=[Status.EXECUTED, Status.FAILED]).count()
        == len(ids)
    )


def _recorded(task: UpdateTask) -> list[tuple[str, str]]:
    return list(
        TaskStep.objects.filter(task=task).order_by("started", "id").values_list("step", "outcome")
    )


def _updated_once_per_executed_task(e2e: EndToEnd, *tasks: UpdateTask) -> None:
    for task in tasks:
        task.refresh_from_db()
        updates = [o for s, o in e2e.far_side(task) if s == "update" and o == "succeeded"]
        # A failed task may have updated once before a later step failed and was restored.
        assert len(updates) == 1 if task.status == Status.EXECUTED else len(updates) <= 1, task


def test_the_steps_run_in_order_through_the_simulator(e2e, versions, partner_a):
    plain = _task(versions, partner_a)
    redeployed = _task(versions, partner_a, redeploy=True)

    e2e.run_worker_until(_ended(plain, redeployed))

    for task, steps in ((plain, STEPS), (redeployed, [*STEPS[:3], "redeploy", STEPS[3]])):
        task.refresh_from_db()
        assert task.status == Status.EXECUTED, task.failure_reason
        assert _recorded(task) == [(s, "succeeded") for s in steps]
        assert e2e.far_side(task) == [(s, "succeeded") for s in steps]
        assert Tenant.objects.get(pk=task.tenant_id).version == versions["new"]
        assert e2e.tenant(task)["version"] == "14.10"
        assert len(e2e.tenant(task)["backups"]) == 1
    # The recorded output is the simulator's answer.
    backup = TaskStep.objects.get(task=plain, step="backup")
    assert e2e.tenant(plain)["backups"][0]["backup_id"] in backup.output
    _updated_once_per_executed_task(e2e, plain, redeployed)


def test_with_wait_each_step_is_one_request_answered_when_it_ends(e2e, versions, partner_a):
    task = _task(versions, partner_a)

    e2e.run_worker_until(_ended(task), UCFLEET_DRIVER_HTTP_WAIT="10")

    task.refresh_from_db()
    assert task.status == Status.EXECUTED, task.failure_reason
    assert e2e.far_side(task) == [(s, "succeeded") for s in STEPS]
    # Each start's own answer was the ended operation: the simulator held it (a plain start
    # answers "running" and is polled).
    starts = re.findall(r" (\w+): operation op-\w+ \((\w+)\)", task.attempts.get().log)
    assert starts == [(s, "succeeded") for s in STEPS]


def test_a_held_step_that_outlasts_its_timeout_fails_and_is_restored(e2e, versions, partner_a):
    e2e.sim.call("PUT", "/settings", {"per_step_seconds": {"health_check": 30}})
    task = _task(versions, partner_a)

    e2e.run_worker_until(
        _ended(task), UCFLEET_DRIVER_HTTP_WAIT="20", UCFLEET_DRIVER_TIMEOUT_HEALTH_CHECK="1"
    )

    task.refresh_from_db()
    assert task.failure_reason == "health check failed: restored to 14.9"
    step = TaskStep.objects.get(task=task, step="health_check")
    assert "timed out after 1 s" in step.output
    assert 1 <= (step.finished - step.started).total_seconds() < 20  # not the whole wait
    assert [s for s, _ in e2e.far_side(task)][-1] == "restore"


def test_a_failing_step_restores_the_backup_when_one_was_taken(e2e, versions, partner_a):
    tasks = {step: _task(versions, partner_a, redeploy=True) for step in [*STEPS, "redeploy"]}
    for step, task in tasks.items():
        e2e.sim.fault(task.tenant.instance_id, step=step, times=1)

    e2e.run_worker_until(_ended(*tasks.values()))

    expected = {
        "pre_check": "pre-check failed: ",  # and the simulator's error
        "backup": "backup failed: ",
        "update": "update failed: restored to 14.9",
        "redeploy": "redeploy failed: restored to 14.9",
        "health_check": "health check failed: restored to 14.9",
    }
    for step, task in tasks.items():
        task.refresh_from_db()
        assert task.status == Status.FAILED
        assert task.failure_reason.startswith(expected[step]), (step, task.failure_reason)
        if step not in RESTORED:
            assert "simulated fault" in task.failure_reason
        far = e2e.far_side(task)
        assert far == _recorded(task)  # both sides saw the same steps
        if step in RESTORED:
            assert far[-2:] == [(step, "failed"), ("restore", "succeeded")]
        else:  # nothing changed on the tenant: nothing to restore
            assert far[-1] == (step, "failed") and "restore" not in dict(far)
        if step == "pre_check":
            assert far == [("pre_check", "failed")]  # no backup either
        # The tenant stays on its version, on both sides.
        assert Tenant.objects.get(pk=task.tenant_id).version == versions["current"]
        assert e2e.tenant(task)["version"] == "14.9"
    assert e2e.tenant(tasks["update"])["healthy"] is True  # the restore made it healthy again
    assert not Notification.objects.filter(kind=Kind.TENANT_NEEDS_ATTENTION).exists()
    _updated_once_per_executed_task(e2e, *tasks.values())


def test_a_failed_restore_needs_attention_and_tells_the_platform_once(
    e2e, versions, partner_a, partner_admin
):
    platform = AdministratorFactory(username="ops", profile=Profile.PLATFORM, language="de")
    task = _task(versions, partner_a)
    e2e.sim.fault(task.tenant.instance_id, step="update", times=1)
    e2e.sim.fault(task.tenant.instance_id, step="restore", times=1)

    alert = Notification.objects.filter(kind=Kind.TENANT_NEEDS_ATTENTION)
    e2e.run_worker_until(lambda: alert.filter(sent_at__isnull=False).exists())

    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason == "restore failed: tenant needs attention"
    assert _recorded(task)[-2:] == [("update", "failed"), ("restore", "failed")]
    assert e2e.tenant(task)["healthy"] is False
    [mail] = alert  # one e-mail, to the platform administrators, naming the tenant
    assert mail.recipients == [platform.email] and mail.language == "de"
    assert task.tenant.name in mail.subject and task.tenant.instance_id in mail.body
    assert "Wiederherstellung" in mail.subject
    assert list(mail.tasks.values_list("pk", flat=True)) == [task.pk]
    # The partner is told of the failure as usual, but does not see the platform's alert.
    close_failure_digests()  # the hour has closed
    assert Notification.objects.filter(kind=Kind.FAILED_PARTNER).count() == 1
    assert not notifications_visible_to(partner_admin).filter(kind=mail.kind).exists()
    _updated_once_per_executed_task(e2e, task)


def test_a_busy_tenant_waits_holding_no_slot_then_updates(e2e, versions, partner_a):
    busy = _task(versions, partner_a)
    idle = _task(versions, partner_a)
    e2e.sim.fault(busy.tenant.instance_id, busy_seconds=8, calls=3)
    seen_waiting: list[str] = []

    def done_after_waiting() -> bool:
        row = UpdateTask.objects.values("status", "waiting_reason").get(pk=busy.pk)
        if row["status"] == Status.PLANNED and row["waiting_reason"]:
            seen_waiting.append(row["waiting_reason"])
        return row["status"] == Status.EXECUTED and _ended(idle)()

    # One task at a time: the idle tenant's task runs while the busy one waits.
    e2e.run_worker_until(done_after_waiting, UCFLEET_MAX_CONCURRENT_TASKS="1")

    busy.refresh_from_db()
    idle.refresh_from_db()
    assert "busy: 3 active calls" in seen_waiting
    assert idle.status == Status.EXECUTED and idle.finished < busy.finished
    assert busy.waiting_reason == "" and busy.next_check is None
    outcomes = list(busy.attempts.order_by("id").values_list("outcome", flat=True))
    assert len(outcomes) >= 3 and outcomes[-1] == AttemptOutcome.SUCCEEDED
    assert set(outcomes[:-1]) == {AttemptOutcome.WAITING}
    far = [s for s, _ in e2e.far_side(busy)]
    assert far.count("pre_check") == len(outcomes) and far.count("backup") == 1
    assert e2e.tenant(busy)["version"] == "14.10"
    _updated_once_per_executed_task(e2e, busy, idle)


def test_busy_past_the_latest_start_moves_a_window_task_and_fails_the_others(
    e2e, versions, partner_a, platform_admin, partner_admin
):
    _daily_window(platform_admin)
    soon = timezone.now() + timedelta(seconds=4)
    start = timezone.now() - timedelta(seconds=1)
    window = _task(
        versions,
        partner_a,
        timing=Timing.MAINTENANCE_WINDOW,
        earliest_start=start,
        latest_start=soon,
        notify_partner=True,
    )
    custom = _task(
        versions, partner_a, timing=Timing.CUSTOM, earliest_start=start, latest_start=soon
    )
    immediate = _task(versions, partner_a)
    for task in (window, custom, immediate):
        e2e.sim.fault(task.tenant.instance_id, busy_seconds=120, calls=3)

    moved = UpdateTask.objects.filter(pk=window.pk, earliest_start__gt=soon)
    e2e.run_worker_until(
        lambda: moved.exists() and _ended(custom, immediate)(),
        UCFLEET_BUSY_MAX_WAIT_MINUTES="0.05",  # 3 s for the Immediately task
    )

    window.refresh_from_db()
    assert window.status == Status.PLANNED and window.waiting_reason == ""
    assert window.earliest_start == next_task_window(timezone.now()).start
    assert Notification.objects.filter(kind=Kind.RESCHEDULED_PARTNER, tasks=window).count() == 1
    for task in (custom, immediate):
        task.refresh_from_db()
        assert task.status == Status.FAILED
        assert task.failure_reason == "busy: 3 active calls"
        assert {s for s, _ in e2e.far_side(task)} == {"pre_check"}
    for task in (window, custom, immediate):
        assert e2e.tenant(task)["version"] == "14.9"
        assert Tenant.objects.get(pk=task.tenant_id).version == versions["current"]
    _updated_once_per_executed_task(e2e, window, custom, immediate)


def test_a_request_without_wait_for_idle_updates_a_busy_tenant_at_once(
    e2e, versions, a_tenants, platform_admin
):
    tenant = a_tenants[0]
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            timing=Timing.IMMEDIATE,
            target_version=versions["new"].pk,
            tenant_ids=[tenant.pk],
            wait_for_idle=False,
        ),
    )
    task = result.created.get()
    assert task.wait_for_idle is False
    e2e.sim.fault(tenant.instance_id, busy_seconds=120, calls=3)

    e2e.run_worker_until(_ended(task))

    task.refresh_from_db()
    assert task.status == Status.EXECUTED
    assert e2e.far_side(task) == [(s, "succeeded") for s in STEPS]
    assert '"active_calls": 3' in TaskStep.objects.get(task=task, step="pre_check").output
    assert e2e.tenant(task)["version"] == "14.10"
    _updated_once_per_executed_task(e2e, task)
