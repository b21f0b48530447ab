"""`ucfleet simulator` as an operator starts it: options, the log file, stopping."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

from tests.simulator.process import running_simulator, simulator_command


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*simulator_command(), *args], capture_output=True, text=True, timeout=60)


def test_help_names_the_options():
    done = run("--help")
    assert done.returncode == 0
    for option in ("--port", "--host", "--token", "--step-seconds", "--log-file"):
        assert option in done.stdout


def test_bad_options_are_refused_with_a_reason():
    assert "--port" in run().stderr
    for args, named in [
        (("--port", "70000"), "--port"),
        (("--port", "x"), "--port"),
        (("--port", "0", "--step-seconds", "-1"), "--step-seconds"),
        (("--port", "0", "--step-seconds", "nan"), "--step-seconds"),
    ]:
        done = run(*args)
        assert done.returncode == 2, args
        assert named in done.stderr


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run("--port", str(taken.getsockname()[1]))
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr


def test_the_log_file_gets_every_finished_operation_as_a_json_line(tmp_path):
    log_file = tmp_path / "operations.jsonl"
    with running_simulator("--step-seconds", "0", "--log-file", str(log_file)) as sim:
        ids = [sim.run_step("uc-1", step)["operation_id"] for step in ("pre_check", "backup")]
        sim.call("POST", "/tenants/uc-1/faults", {"step": "update"})
        ids.append(sim.run_step("uc-1", "update")["operation_id"])
        log = sim.call("GET", "/tenants/uc-1/log")[1]
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [line["operation_id"] for line in lines] == ids
    assert lines == log
    assert [line["outcome"] for line in lines] == ["succeeded", "succeeded", "failed"]


def test_sigterm_stops_it_cleanly():
    with running_simulator("--step-seconds", "0") as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        sim.start_step("uc-1", "update")
        sim.process.send_signal(signal.SIGTERM)
        assert sim.process.wait(timeout=10) == 0
