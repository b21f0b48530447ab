"""examples/uc-command-driver.py, the reference a provider adapts, run by the command
driver through the real worker loop: it speaks docs/drivers.md as shipped."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ucfleet.updates.choices import Status
from ucfleet.updates.models import TaskStep

SCRIPT = Path(__file__).parents[2] / "examples" / "uc-command-driver.py"


@pytest.fixture
def state(ucfleet_settings, tmp_path, monkeypatch):
    """The reference driver configured, its state directory, and a tenant's state."""
    monkeypatch.setenv("UC_DRIVER_STATE_DIR", str(tmp_path))
    ucfleet_settings(
        DRIVER="command", COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}"
    )

    def of(task, **values):
        path = tmp_path / f"{task.tenant.instance_id}.json"
        if values:
            path.write_text(json.dumps(values))
        return json.loads(path.read_text())

    return of


def _steps(task):
    return list(TaskStep.objects.filter(task=task).values_list("step", "outcome"))


def test_the_reference_driver_updates_a_tenant(burst, make_tasks, state):
    [task] = make_tasks(1, redeploy=True)

    summary = burst()

    assert summary.executed == [task.pk]
    steps = ["pre_check", "backup", "update", "redeploy", "health_check"]
    assert _steps(task) == [(s, "succeeded") for s in steps]
    tenant = state(task)
    assert tenant["version"] == "14.10" and len(tenant["backups"]) == 1


def test_the_reference_driver_restores_after_a_failed_update(burst, make_tasks, state):
    [task] = make_tasks(1)
    state(task, version="14.9", fail=["update"])

    burst()

    task.refresh_from_db()
    assert task.failure_reason == "update failed: restored to 14.9"
    assert _steps(task)[-2:] == [("update", "failed"), ("restore", "succeeded")]
    tenant = state(task)
    assert tenant["version"] == "14.9" and tenant["healthy"] is True and tenant["fail"] == []


def test_the_reference_driver_reports_active_calls(burst, make_tasks, state):
    [task] = make_tasks(1)
    state(task, version="14.9", active_calls=3)

    burst()

    task.refresh_from_db()
    assert task.status == Status.PLANNED and task.waiting_reason == "busy: 3 active calls"
    assert _steps(task) == [("pre_check", "succeeded")]


def test_the_reference_driver_refuses_an_unknown_step():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "reboot"], input="{}", capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "usage" in json.loads(done.stdout)["error"]
