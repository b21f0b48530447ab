"""The supervisor behind `ucfleet run`, with real child processes: restarts with doubling
back-off that starts over after a child stayed up, and a child that ignores SIGTERM is
killed after the grace period."""

from __future__ import annotations

import logging
import re
import sys
import time

from ucfleet.supervisor import ChildSpec, RestartPolicy, Supervisor

FAST = RestartPolicy(first_delay=0.1, max_delay=0.4, stable_after=60.0)


def supervise(supervisor: Supervisor, caplog, *, until, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    with caplog.at_level(logging.INFO, logger="ucfleet.supervisor"):
        supervisor.start()
        try:
            supervisor.run(until=lambda: until(caplog.text) or time.monotonic() > deadline)
        finally:
            supervisor.stop()
    return caplog.text


def restart_delays(text: str) -> list[str]:
    return re.findall(r"exited with code 3; restarting it in ([\d.]+) s", text)


def test_a_crashing_child_is_restarted_with_doubling_back_off_up_to_the_cap(caplog, tmp_path):
    crasher = ChildSpec("crasher", [sys.executable, "-c", "import sys; sys.exit(3)"])
    supervisor = Supervisor([crasher], policy=FAST, state_file=tmp_path / "state.json")
    text = supervise(supervisor, caplog, until=lambda t: len(restart_delays(t)) >= 5)
    assert restart_delays(text)[:5] == ["0.1", "0.2", "0.4", "0.4", "0.4"]
    assert "crasher restarted (restart 4)" in text
    assert not (tmp_path / "state.json").exists()  # removed when everything stopped


def test_the_back_off_starts_over_after_a_child_stayed_up(caplog):
    flaky = ChildSpec(
        "flaky", [sys.executable, "-c", "import sys, time; time.sleep(0.5); sys.exit(3)"]
    )
    policy = RestartPolicy(first_delay=0.1, max_delay=0.4, stable_after=0.3)
    supervisor = Supervisor([flaky], policy=policy)
    text = supervise(supervisor, caplog, until=lambda t: len(restart_delays(t)) >= 3)
    assert restart_delays(text)[:3] == ["0.1", "0.1", "0.1"]


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(caplog, tmp_path):
    ready = tmp_path / "ready"
    stubborn = ChildSpec(
        "stubborn",
        [
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "pathlib.Path(sys.argv[1]).touch()\n"
            "time.sleep(60)\n",
            str(ready),
        ],
    )
    supervisor = Supervisor([stubborn], policy=FAST, grace_seconds=0.5)
    text = supervise(supervisor, caplog, until=lambda _: ready.exists())
    assert ready.exists()
    assert "stubborn (pid" in text and "did not stop in time; killing it" in text
    assert re.search(r"stubborn \(pid \d+\) was killed by signal 9 \(SIGKILL\)", text)
    assert supervisor.pids() == {}
