"""The simulator's log is read off one timeline: a step that starts after another has ended
is never logged as starting before that end, even when the system clock is slewed or stepped
back meanwhile (bench/fleet.py checks the caps from these times to the millisecond)."""

from __future__ import annotations

import io
import json
import time

from ucfleet.simulator.state import Simulator
from ucfleet.simulator.validation import StepRequest


def _request(task_id: int) -> StepRequest:
    return StepRequest(
        task_id=task_id, attempt_id=1, from_version="14.9", target_version="15.0", backup_id=None
    )


def test_a_step_started_after_another_ended_is_logged_after_it_with_the_clock_stepped_back(
    monkeypatch,
):
    log_file = io.StringIO()
    simulator = Simulator(step_seconds=0.05, log_file=log_file)
    simulator.start_step("uc-clock-1", "pre_check", _request(1))
    while simulator.settle_due() is not None:
        time.sleep(0.01)
    # The system clock goes back an hour (an NTP step): the simulator does not follow it.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)
    simulator.start_step("uc-clock-2", "pre_check", _request(2))
    while simulator.settle_due() is not None:
        time.sleep(0.01)

    first, second = (json.loads(line) for line in log_file.getvalue().splitlines())
    assert first["task_id"] == 1 and second["task_id"] == 2
    assert first["started"] < first["finished"] <= second["started"] < second["finished"]
