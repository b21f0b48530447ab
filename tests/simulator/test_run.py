"""`ucfleet run` starts the simulator next to the portal and points the workers' http driver at
it (R27). `ucfleet run` runs as a real process with its own data folder (SQLite)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

UCFLEET = Path(sys.executable).with_name("ucfleet")
COMMAND = [str(UCFLEET)] if UCFLEET.exists() else [sys.executable, "-m", "ucfleet.cli"]


def free_port_pair() -> int:
    """A port p with p and p + 1 both free just now (the portal and the simulator)."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two neighbouring free ports")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    env.update(
        {"UCFLEET_DATA_DIR": str(data), "UCFLEET_SQLITE_PATH": str(data / "db.sqlite3"), **extra}
    )
    return env


class Run:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for_line(self, text: str, *, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.1)
        raise AssertionError(f"no line with {text!r}; output:\n{''.join(self.lines)}")

    def child_environments(self, name: str) -> list[dict[str, str]]:
        """The environments of this run's child processes whose command line holds `name`."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if parent != self.process.pid:
                    continue
                cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
                if name.encode() not in cmdline:
                    continue
                raw = (stat.parent / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            found.append(dict(item.decode().split("=", 1) for item in raw if b"=" in item))
        return found


@contextmanager
def ucfleet_run(port: int, env: dict[str, str]) -> Iterator[Run]:
    process = subprocess.Popen(
        [*COMMAND, "run", "--port", str(port), "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run = Run(process)
    try:
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        run.reader.join(timeout=10)  # it reads to the end first: then close the pipe
        if process.stdout:
            process.stdout.close()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def answers(url: str, *, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            get_json(url)
            return True
        except OSError:
            time.sleep(0.2)
    return False


def test_run_starts_the_simulator_on_the_next_port_and_the_workers_use_it(tmp_path):
    port = free_port_pair()
    url = f"http://127.0.0.1:{port + 1}/"
    with ucfleet_run(port, run_env(tmp_path)) as run:
        run.wait_for_line(f"UCFLEET_SIMULATOR_URL={url}")
        assert answers(f"{url}healthz")
        assert get_json(f"{url}settings")["step_seconds"] == 1.0
        workers = run.child_environments("worker")
        assert len(workers) == 1
        assert workers[0]["UCFLEET_DRIVER"] == "http"
        assert workers[0]["UCFLEET_DRIVER_HTTP_URL"] == url
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=60) == 0
    assert not answers(f"{url}healthz", timeout=1)  # it stopped with the rest


def test_a_configured_driver_stays_and_the_url_moves_the_simulator(tmp_path):
    port, simulator_port = free_port(), free_port()
    url = f"http://127.0.0.1:{simulator_port}/"
    env = run_env(tmp_path, UCFLEET_DRIVER="simulated", UCFLEET_SIMULATOR_URL=url)
    with ucfleet_run(port, env) as run:
        run.wait_for_line(f"UCFLEET_SIMULATOR_URL={url} (driver as configured)")
        assert answers(f"{url}healthz")
        workers = run.child_environments("worker")
        assert [worker["UCFLEET_DRIVER"] for worker in workers] == ["simulated"]
        assert "UCFLEET_DRIVER_HTTP_URL" not in workers[0]


def test_a_bad_simulator_url_stops_run_before_anything_starts(tmp_path):
    env = run_env(tmp_path, UCFLEET_SIMULATOR_URL="ftp://127.0.0.1:21/")
    done = subprocess.run(
        [*COMMAND, "run", "--port", str(free_port()), "--no-demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "UCFLEET_SIMULATOR_URL must look like" in done.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_taken_simulator_port_stops_run_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        url = f"http://127.0.0.1:{taken.getsockname()[1]}/"
        done = subprocess.run(
            [*COMMAND, "run", "--port", str(free_port()), "--no-demo"],
            env=run_env(tmp_path, UCFLEET_SIMULATOR_URL=url),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert f"cannot start the UC provisioning simulator at {url}" in done.stderr
    assert not (tmp_path / "db.sqlite3").exists()
