"""A rollout driven by a real `ucfleet worker` process through the UC provisioning simulator
(http driver): the error budget pauses it automatically while wave 2 stays held, resuming
lets the worker process release wave 2 on its own tick, and the rollout completes."""

from __future__ import annotations

from itertools import pairwise

import pytest

from tests.factories import TenantFactory
from tests.worker.test_simulator_end_to_end import EndToEnd
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.models import Notification
from ucfleet.rollouts.models import Rollout
from ucfleet.rollouts.services import resume
from ucfleet.updates.choices import Status, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import ScheduleRequest
from ucfleet.updates.services import schedule_updates

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def e2e(tmp_path):
    setup = EndToEnd(tmp_path)
    yield setup
    setup.sim.stop()


def test_budget_pause_resume_and_release_in_a_worker_process(
    e2e, versions, partner_a, platform_admin
):
    tenants = [TenantFactory(partner=partner_a, version=versions["current"]) for _ in range(5)]
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            timing=Timing.IMMEDIATE,
            target_version=versions["new"].pk,
            tenant_ids=[t.pk for t in tenants],
            name="Process rollout",
            waves=[{"count": 2}, {"percent": 100}],
            max_failures=1,
        ),
    )
    rollout = result.rollout
    assert rollout is not None
    first_wave = list(UpdateTask.objects.filter(rollout=rollout, wave=1).select_related("tenant"))
    for task in first_wave:  # both tenants of wave 1 fail their update (and are restored)
        e2e.sim.fault(task.tenant.instance_id, step="update", times=1)

    def paused() -> bool:
        return Rollout.objects.get(pk=rollout.pk).status == "paused"

    e2e.run_worker_until(paused)

    waves = dict(UpdateTask.objects.filter(rollout=rollout).values_list("pk", "wave"))
    by_status = {
        wave: set(
            UpdateTask.objects.filter(rollout=rollout, wave=wave).values_list("status", flat=True)
        )
        for wave in set(waves.values())
    }
    assert by_status == {1: {Status.FAILED}, 2: {Status.HELD}}
    assert all(
        "restored to 14.9" in t.failure_reason
        for t in UpdateTask.objects.filter(rollout=rollout, wave=1)
    )
    [mail] = Notification.objects.filter(kind=Kind.ROLLOUT_PAUSED)
    assert "Process rollout" in mail.subject
    for task in first_wave:
        assert task.tenant.name in mail.body

    resume(platform_admin, rollout.pk)

    def completed() -> bool:
        return Rollout.objects.get(pk=rollout.pk).status == "completed"

    e2e.run_worker_until(completed)

    assert set(
        UpdateTask.objects.filter(rollout=rollout, wave=2).values_list("status", flat=True)
    ) == {Status.EXECUTED}
    assert [w.status for w in rollout.waves.order_by("index")] == ["ended", "ended"]
    assert Notification.objects.filter(kind=Kind.ROLLOUT_PAUSED).count() == 1


@pytest.mark.postgres_only
def test_three_worker_processes_finish_a_waved_rollout_exactly_once(tmp_path, platform_admin):
    """PostgreSQL: the hook locks the rollout's row, so concurrent completions end each wave
    once and release the next; every task runs once and the rollout completes."""
    import signal

    from tests.factories import PartnerFactory, ScaleUnitFactory, VersionFactory
    from tests.worker.processes import child_env, start_worker, wait_until
    from ucfleet.rollouts.models import RolloutWave
    from ucfleet.tenants.models import Tenant
    from ucfleet.updates.models import TaskAttempt

    partner = PartnerFactory(name="Wave Partner")
    old, new = VersionFactory(name="21.1"), VersionFactory(name="21.2")
    unit = ScaleUnitFactory(name="wave-1", max_concurrent_tasks=8)
    Tenant.objects.bulk_create(
        Tenant(
            name=f"wave-{i:04d}",
            domain=f"wave-{i:04d}.uc.example",
            partner=partner,
            version=old,
            scale_unit=unit,
            instance_id=f"i-wave{i:04d}",
        )
        for i in range(240)
    )
    result = schedule_updates(
        platform_admin,
        ScheduleRequest(
            timing=Timing.IMMEDIATE,
            target_version=new.pk,
            partner_id=partner.pk,
            waves=[{"percent": 5}, {"percent": 20}, {"percent": 100}],
            max_failure_percent=50,
        ),
    )
    rollout = result.rollout
    assert [w.size for w in rollout.waves.order_by("index")] == [12, 48, 180]
    env = child_env()
    env.update(
        {
            "UCFLEET_DRIVER": "simulated",
            "UCFLEET_SIMULATED_SECONDS": "0.01",
            "UCFLEET_WORKER_POLL": "0.05",
            "UCFLEET_WORKER_HEARTBEAT": "0.3",
            "UCFLEET_LOG_LEVEL": "WARNING",
        }
    )
    workers = [
        start_worker("--name", f"wave-w{i}", env=env, log_to=tmp_path / f"w{i}.log")
        for i in range(3)
    ]
    try:
        done = wait_until(
            lambda: Rollout.objects.get(pk=rollout.pk).status == "completed", timeout=120, every=0.2
        )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [w.wait(timeout=60) for w in workers]
    logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))
    assert done, logs
    assert codes == [0, 0, 0], logs
    assert set(UpdateTask.objects.filter(rollout=rollout).values_list("status", flat=True)) == {
        Status.EXECUTED
    }
    assert TaskAttempt.objects.filter(task__rollout=rollout).count() == 240  # each once
    waves = list(RolloutWave.objects.filter(rollout=rollout).order_by("index"))
    assert [w.status for w in waves] == ["ended"] * 3
    for before, after in pairwise(waves):
        first_start = (
            UpdateTask.objects.filter(rollout=rollout, wave=after.index)
            .order_by("started")
            .values_list("started", flat=True)
            .first()
        )
        assert before.ended_at <= after.released_at <= first_start
