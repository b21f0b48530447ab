"""`ucfleet run` on a fresh data folder (the one-machine set-up with its demo): an
*Immediately* task runs through the UC provisioning simulator it started, and its steps are
recorded for the task page (R24, R27)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import urllib.request

from tests.simulator.test_run import COMMAND, Run, free_port_pair, run_env

STEPS = ["pre_check", "backup", "update", "health_check"]


def _rows(db, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db, timeout=10)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_an_immediately_task_of_the_demo_runs_through_the_simulator(tmp_path):
    port = free_port_pair()
    env = run_env(tmp_path)
    process = subprocess.Popen(
        [*COMMAND, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run = Run(process)
    try:
        line = run.wait_for_line("UCFLEET_SIMULATOR_URL=")
        url = line.split("UCFLEET_SIMULATOR_URL=", 1)[1].split()[0]
        scheduled = subprocess.run(
            [
                *COMMAND,
                "schedule",
                "--partner",
                "Alpha Telecom",
                "--timing",
                "immediate",
                "--target-version",
                "14.10",
                "--as",
                "platform",
                "--yes",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert scheduled.returncode == 0, scheduled.stdout + scheduled.stderr
        db = tmp_path / "db.sqlite3"
        query = "SELECT id, status FROM updates_updatetask WHERE timing = 'immediate' ORDER BY id"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            tasks = _rows(db, query)
            if tasks and all(status in ("executed", "failed") for _, status in tasks):
                break
            time.sleep(0.5)
        assert tasks and {status for _, status in tasks} == {"executed"}, (tasks, run.lines)
        first = tasks[0][0]
        steps = _rows(
            db, f"SELECT step, outcome FROM updates_taskstep WHERE task_id = {first} ORDER BY id"
        )
        assert steps == [(s, "succeeded") for s in STEPS]
        with urllib.request.urlopen(f"{url}log?task_id={first}", timeout=10) as answer:
            far = [(e["step"], e["outcome"]) for e in json.loads(answer.read())]
        assert far == steps  # the simulator ran exactly these steps, once each
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        run.reader.join(timeout=10)  # it reads to the end first: then close the pipe
        assert process.stdout is not None
        process.stdout.close()
