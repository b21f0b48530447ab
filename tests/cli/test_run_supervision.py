"""`ucfleet run` supervises its processes (issue 9, item 4): a child killed with SIGKILL is
restarted and the portal answers throughout; SIGTERM stops every child; a busy port is
refused before anything starts. `ucfleet run` runs as a real process on a free port with
its own data folder (SQLite)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.worker.processes import wait_until

UCFLEET = Path(sys.executable).with_name("ucfleet")
COMMAND = [str(UCFLEET)] if UCFLEET.exists() else [sys.executable, "-m", "ucfleet.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    env.update(
        {
            "UCFLEET_DATA_DIR": str(data),
            "UCFLEET_SQLITE_PATH": str(data / "ucfleet.sqlite3"),
            "UCFLEET_LOG_LEVEL": "INFO",
        }
    )
    return env


def state(data: Path) -> dict:
    try:
        return json.loads((data / "ucfleet-run.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def children(data: Path) -> dict[str, int]:
    return state(data).get("children", {})


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def child_pids_of(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's own workers), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone for every purpose but the process table.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


class Poller:
    """GETs `url` every 0.1 s on a thread; every answer is recorded."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.results: list[bool] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.results.append(answers(self.url))

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def ucfleet_run(tmp_path):
    """Start `ucfleet run` on a free port; yields (process, data folder, url, log path)."""
    data, log_path, port = tmp_path / "data", tmp_path / "run.log", free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*COMMAND, "run", "--port", str(port), "--no-demo"],
            env=run_env(data),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as in a terminal
        )
    try:
        yield process, data, f"http://127.0.0.1:{port}/login/", log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
            for pid in children(data).values():  # never leave processes behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


def test_a_killed_worker_is_restarted_and_the_portal_keeps_answering(ucfleet_run):
    process, data, url, log_path = ucfleet_run
    up = wait_until(
        lambda: {"worker-1", "portal"} <= set(children(data)) and answers(url),
        timeout=120,
        every=0.2,
    )
    assert up, log_path.read_text()
    assert "ucfleet is running at http://127.0.0.1:" in log_path.read_text()
    old_worker, portal = children(data)["worker-1"], children(data)["portal"]
    assert f"worker-1 started (pid {old_worker})" in log_path.read_text()

    with Poller(url) as poller:
        os.kill(old_worker, signal.SIGKILL)
        restarted = wait_until(
            lambda: children(data).get("worker-1") not in (None, old_worker), timeout=30
        )
        assert restarted, log_path.read_text()
        new_worker = children(data)["worker-1"]
        # The new process took over the worker's name at once (no TTL to wait for).
        registered = wait_until(
            lambda: worker_row(data, "worker-1") == (new_worker, "alive"), timeout=30
        )
        time.sleep(1)  # the portal goes on answering after the restart too

    log = log_path.read_text()
    assert registered, log
    assert (
        f"worker-1 (pid {old_worker}) was killed by signal 9 (SIGKILL); restarting it in 1 s" in log
    )
    assert f"worker-1 restarted (restart 1) (pid {new_worker})" in log
    assert process.poll() is None
    assert children(data)["portal"] == portal  # the portal was never touched
    assert poller.results and all(poller.results), poller.results

    everything = [new_worker, portal, *child_pids_of(portal)]
    assert len(everything) > 2  # gunicorn's own workers are in the count
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log_path.read_text()
    log = log_path.read_text()
    assert all(is_gone(pid) for pid in everything), [p for p in everything if not is_gone(p)]
    assert f"worker-1 (pid {new_worker}) exited with code 0" in log  # stopped gracefully
    assert not (data / "ucfleet-run.json").exists()
    assert worker_row(data, "worker-1") == (new_worker, "stopped")


def test_ctrl_c_stops_every_child_once_and_gracefully(ucfleet_run):
    process, data, url, log_path = ucfleet_run
    up = wait_until(
        lambda: {"worker-1", "portal"} <= set(children(data)) and answers(url),
        timeout=120,
        every=0.2,
    )
    assert up, log_path.read_text()
    worker, portal = children(data)["worker-1"], children(data)["portal"]
    assert wait_until(lambda: worker_row(data, "worker-1") == (worker, "alive"), timeout=30)

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C in the terminal does
    assert process.wait(timeout=60) == 0, log_path.read_text()
    log = log_path.read_text()
    assert "received SIGINT: stopping every process" in log
    # One signal each: a worker that got Ctrl+C and then SIGTERM would die of the second.
    assert f"worker-1 (pid {worker}) exited with code 0" in log
    assert f"portal (pid {portal}) exited with code 0" in log
    assert worker_row(data, "worker-1") == (worker, "stopped")
    assert is_gone(worker) and is_gone(portal)


def worker_row(data: Path, name: str) -> tuple[int, str] | None:
    """The worker's row in `ucfleet run`'s own SQLite database."""
    try:
        with sqlite3.connect(f"file:{data / 'ucfleet.sqlite3'}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT pid, status FROM worker_worker WHERE name = ?", (name,)
            ).fetchone()
    except sqlite3.Error:
        return None
    return (row[0], row[1]) if row else None


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*COMMAND, "run", "--port", str(port), "--no-demo"],
            env=run_env(data),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "is running" not in result.stdout
    assert not (data / "ucfleet-run.json").exists()
