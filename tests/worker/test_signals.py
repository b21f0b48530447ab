"""Graceful stop on SIGTERM: running updates finish, tasks not yet updating are handed back,
nothing is left in progress. The real signal handler of the real loop, in this process."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from ucfleet.audit.models import ChangeLogEntry
from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.updates.models import UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus
from ucfleet.worker.runner import WorkerLoop, WorkerSettings

SCRIPT = Path(__file__).with_name("fake_provisioner.py")


@pytest.fixture
def blocking_script(ucfleet_settings, tmp_path, monkeypatch):
    """The command driver's script waits in FAKE_BLOCK_STEP until the test releases it."""
    monkeypatch.setenv("FAKE_SYNC_DIR", str(tmp_path))
    ucfleet_settings(
        DRIVER="command",
        COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}",
    )

    def block_in(step):
        monkeypatch.setenv("FAKE_BLOCK_STEP", step)

    return tmp_path, block_in


def _sigterm_when_started(loop: WorkerLoop, sync: Path, started: int) -> threading.Thread:
    """Once `started` tasks wait in the script: SIGTERM this process, wait until the loop
    has taken it in, then let the scripts go on."""

    def act():
        deadline = time.monotonic() + 30
        while len(list(sync.glob("started-*"))) < started and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)
        while not loop.is_stopping and time.monotonic() < deadline:
            time.sleep(0.01)
        (sync / "release").touch()

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def _loop(concurrency: int) -> WorkerLoop:
    options = WorkerSettings.from_settings(name="graceful", concurrency=concurrency)
    return WorkerLoop(options, install_signal_handlers=True)


def test_sigterm_hands_back_tasks_that_have_not_begun_updating(
    make_tasks, blocking_script, versions
):
    sync, block_in = blocking_script
    block_in("pre_check")
    make_tasks(5)
    handler_before = signal.getsignal(signal.SIGTERM)
    loop = _loop(concurrency=2)
    helper = _sigterm_when_started(loop, sync, started=2)

    summary = loop.run()  # not burst: only the signal ends it
    helper.join()

    assert len(summary.handed_back) == 2 and summary.executed == summary.failed == []
    assert set(UpdateTask.objects.values_list("status", flat=True)) == {Status.PLANNED}
    for task in UpdateTask.objects.filter(pk__in=summary.handed_back):
        assert task.claimed_by == "" and task.started is None
        attempt = task.attempts.get()
        assert attempt.outcome == AttemptOutcome.INTERRUPTED
        assert "handing the task back before the backup" in attempt.log
        assert task.tenant.version == versions["current"]
    assert ChangeLogEntry.objects.filter(action="hand_back").count() == 2
    assert Worker.objects.get(name="graceful").status == WorkerStatus.STOPPED
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_sigterm_lets_running_updates_finish_and_claims_nothing_more(
    make_tasks, blocking_script, versions
):
    sync, block_in = blocking_script
    block_in("update")
    make_tasks(5)
    loop = _loop(concurrency=2)
    helper = _sigterm_when_started(loop, sync, started=2)

    summary = loop.run()
    helper.join()

    assert len(summary.executed) == 2 and summary.handed_back == []
    statuses = sorted(UpdateTask.objects.values_list("status", flat=True))
    assert statuses == [Status.EXECUTED] * 2 + [Status.PLANNED] * 3
    assert not UpdateTask.objects.filter(status=Status.IN_PROGRESS).exists()
    for task in UpdateTask.objects.filter(status=Status.EXECUTED):
        assert task.tenant.version == versions["new"]
