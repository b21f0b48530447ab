"""R24–R27: each driver's steps, failures, restores and busy tenants through the real worker
loop.

The command driver runs a real script (fake_provisioner.py); the http driver's tests are in
test_http_driver.py (a local provisioning API) and test_simulator_end_to_end.py (the UC
provisioning simulator as its own process).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.models import TaskStep
from ucfleet.worker.drivers import driver_from_settings
from ucfleet.worker.drivers.simulated import SimulatedDriver

SCRIPT = Path(__file__).with_name("fake_provisioner.py")
STEPS = ["pre_check", "backup", "update", "health_check"]
ALL_STEPS = ["pre_check", "backup", "update", "redeploy", "health_check", "restore"]


def _tenant_version(task):
    return task.tenant.__class__.objects.get(pk=task.tenant_id).version


# --- simulated ---------------------------------------------------------------------------


def test_simulated_failures_are_a_function_of_seed_and_task():
    one, same = (SimulatedDriver(seconds=0, failure_share=0.5, seed=7) for _ in range(2))
    other = SimulatedDriver(seconds=0, failure_share=0.5, seed=8)
    fates = [one.failing_step(i, STEPS) for i in range(400)]
    assert fates == [same.failing_step(i, STEPS) for i in range(400)]
    assert fates != [other.failing_step(i, STEPS) for i in range(400)]
    share = sum(f is not None for f in fates) / len(fates)
    assert 0.4 < share < 0.6
    assert {f for f in fates if f} == set(STEPS)  # any step may be the failing one


@pytest.mark.parametrize("share, failing", [(0.0, 0), (1.0, 400)])
def test_simulated_failure_share_bounds(share, failing):
    driver = SimulatedDriver(seconds=0, failure_share=share, seed=1)
    assert sum(driver.failing_step(i, STEPS) is not None for i in range(400)) == failing


def test_simulated_driver_fails_exactly_the_tasks_its_seed_names(
    burst, make_tasks, ucfleet_settings
):
    ucfleet_settings(SIMULATED_FAILURE_SHARE=0.5, SIMULATED_SEED=11)
    tasks = make_tasks(12)
    seeded = SimulatedDriver(seconds=0, failure_share=0.5, seed=11)
    expected_failures = sorted(t.pk for t in tasks if seeded.failing_step(t.pk, STEPS))
    assert 0 < len(expected_failures) < 12  # both paths happen in this run

    summary = burst(concurrency=4)

    assert sorted(summary.failed) == expected_failures
    assert len(summary.executed) == 12 - len(expected_failures)
    for task in tasks:
        task.refresh_from_db()
        if task.pk in expected_failures:
            step = seeded.failing_step(task.pk, STEPS)
            if step in ("pre_check", "backup"):  # nothing changed: nothing to restore
                label = step.replace("_", "-")
                assert task.failure_reason == f"{label} failed: simulated failure (seed 11)"
            else:
                label = step.replace("_", " ")
                assert task.failure_reason == f"{label} failed: restored to 14.9"


def test_an_unknown_driver_is_refused_at_start_up(ucfleet_settings):
    with pytest.raises(ValueError, match="unknown driver 'ssh'"):
        driver_from_settings(ucfleet_settings(DRIVER="ssh"))


# --- command -----------------------------------------------------------------------------


def _steps(task):
    return list(TaskStep.objects.filter(task=task).order_by("started", "id"))


@pytest.fixture
def command_driver(ucfleet_settings, tmp_path, monkeypatch):
    record = tmp_path / "calls"
    record.mkdir()
    monkeypatch.setenv("FAKE_RECORD_DIR", str(record))
    monkeypatch.setenv("UCFLEET_SECRET_KEY", "must-not-reach-the-script")
    ucfleet_settings(
        DRIVER="command",
        COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}",
    )

    def calls():
        found = [json.loads(p.read_text()) for p in record.iterdir()]
        return sorted(found, key=lambda c: (c["task_id"], ALL_STEPS.index(c["step"])))

    return calls


def test_command_driver_runs_the_script_for_every_step(burst, make_tasks, command_driver, versions):
    [plain, redeployed] = make_tasks(2)
    redeployed.redeploy = True
    redeployed.save()

    summary = burst()

    assert sorted(summary.executed) == sorted([plain.pk, redeployed.pk])
    calls = command_driver()
    assert [(c["task_id"], c["step"]) for c in calls] == [
        *((plain.pk, s) for s in STEPS),
        *((redeployed.pk, s) for s in ALL_STEPS[:-1]),
    ]
    assert all(c["consistent"] for c in calls)  # stdin JSON, argument and environment agree
    assert not any(c["sees_ucfleet_secrets"] for c in calls)
    assert {c["backup_id"] for c in calls} == {None}  # only a restore gets one
    plain.refresh_from_db()
    assert _tenant_version(plain) == versions["new"]
    steps = _steps(plain)
    assert [(s.step, s.outcome) for s in steps] == [(s, "succeeded") for s in STEPS]
    assert all(s.started <= s.finished for s in steps)
    assert steps[0].attempt_id == plain.attempts.get().pk
    # stderr is kept in the step's output, and so is the result the script printed.
    assert f"update: {plain.tenant.name} -> 14.10" in steps[2].output
    assert '"version": "14.10"' in steps[2].output


def test_command_driver_failure_after_the_backup_restores_it(
    burst, make_tasks, command_driver, monkeypatch, versions
):
    monkeypatch.setenv("FAKE_FAIL_STEP", "health_check")
    [task] = make_tasks(1)

    summary = burst()

    task.refresh_from_db()
    assert summary.failed == [task.pk]
    assert task.failure_reason == "health check failed: restored to 14.9"
    attempt = task.attempts.get()
    assert attempt.outcome == AttemptOutcome.FAILED
    calls = command_driver()
    assert [c["step"] for c in calls] == [*STEPS, "restore"]
    assert calls[-1]["backup_id"] == f"bk-{task.pk}-{attempt.pk}"  # the backup's own id
    steps = _steps(task)
    assert [(s.step, s.outcome) for s in steps] == [
        *((s, "succeeded") for s in STEPS[:-1]),
        ("health_check", "failed"),
        ("restore", "succeeded"),
    ]
    assert "disk full on /var/lib/uc" in steps[3].output and "exit code 3" in steps[3].output
    # The health check failed after the update: the worker does not claim the target.
    assert _tenant_version(task) == versions["current"]


@pytest.mark.parametrize("step", ["pre_check", "backup"])
def test_command_driver_failure_before_the_backup_restores_nothing(
    burst, make_tasks, command_driver, monkeypatch, step
):
    monkeypatch.setenv("FAKE_FAIL_STEP", step)
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.failure_reason == f"{step.replace('_', '-')} failed: exit code 3"
    assert "restore" not in [c["step"] for c in command_driver()]
    assert _steps(task)[-1].step == step


def test_command_driver_step_timeout_kills_the_step_and_restores(
    burst, make_tasks, command_driver, monkeypatch, ucfleet_settings
):
    timeouts = {**ucfleet_settings()["DRIVER_STEP_TIMEOUTS"], "update": 0.5}
    ucfleet_settings(DRIVER_STEP_TIMEOUTS=timeouts)
    monkeypatch.setenv("FAKE_SLEEP_STEP", "update")
    monkeypatch.setenv("FAKE_SLEEP_SECONDS", "30")
    [task] = make_tasks(1)

    burst()

    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason == "update failed: restored to 14.9"
    update = next(s for s in _steps(task) if s.step == "update")
    assert update.outcome == "failed" and "timed out after 0.5 s" in update.output
    assert "update: stderr:" in update.output  # what it printed before is kept


def test_command_driver_reports_a_missing_executable(burst, make_tasks, ucfleet_settings):
    ucfleet_settings(DRIVER="command", COMMAND="/nonexistent/provision --fast")
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason.startswith("pre-check failed: cannot run /nonexistent/provision")


def test_a_busy_tenant_waits_without_a_backup(burst, make_tasks, command_driver, monkeypatch):
    monkeypatch.setenv("FAKE_ACTIVE_CALLS", "3")
    [task] = make_tasks(1)

    summary = burst()

    task.refresh_from_db()
    assert summary.waiting == [task.pk]
    assert task.status == Status.PLANNED and task.claimed_by == "" and task.started is None
    assert task.waiting_reason == "busy: 3 active calls"
    assert task.next_check > task.busy_since
    assert task.attempts.get().outcome == AttemptOutcome.WAITING
    assert [c["step"] for c in command_driver()] == ["pre_check"]


def test_without_wait_for_idle_a_busy_tenant_is_updated_at_once(
    burst, make_tasks, command_driver, monkeypatch, versions
):
    monkeypatch.setenv("FAKE_ACTIVE_CALLS", "3")
    [task] = make_tasks(1, wait_for_idle=False)

    summary = burst()

    assert summary.executed == [task.pk]
    assert [c["step"] for c in command_driver()] == STEPS
    assert _tenant_version(task) == versions["new"]
