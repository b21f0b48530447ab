"""Helpers for tests that run `ucfleet worker` as real processes against the test database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.db import connection

UCFLEET = Path(sys.executable).with_name("ucfleet")


def child_env() -> dict[str, str]:
    """Environment that points a child process at this test run's database."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "postgres")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        env["UCFLEET_DATABASE_URL"] = f"postgres://{auth}@{host}/{quote(db['NAME'])}"
    else:
        env["UCFLEET_SQLITE_PATH"] = str(db["NAME"])
    env["UCFLEET_DATA_DIR"] = os.environ.get("UCFLEET_DATA_DIR", str(Path.cwd() / "var"))
    return env


def start_worker(*args: str, env: dict[str, str], log_to: Path) -> subprocess.Popen:
    command = [str(UCFLEET)] if UCFLEET.exists() else [sys.executable, "-m", "ucfleet.cli"]
    # The child writes to its own copy of the descriptor: ours is closed at once (an open
    # one would be a ResourceWarning, an error under filterwarnings = error).
    with log_to.open("w") as out:
        return subprocess.Popen(
            [*command, "worker", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until(condition, *, timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


class SimulatorProcess:
    """`ucfleet simulator --port 0` as a process of its own, and a small client for its
    public endpoints (API.md). The port is the one it prints when listening."""

    def __init__(self, *, token: str, step_seconds: float, log_to: Path) -> None:
        command = [str(UCFLEET)] if UCFLEET.exists() else [sys.executable, "-m", "ucfleet.cli"]
        self.token = token
        self.stderr = log_to.open("w")
        self.process = subprocess.Popen(
            [*command, "simulator", "--port", "0", "--token", token],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "… listening on http://127.0.0.1:PORT/ …"
        match = re.search(r"(http://[\d.]+:\d+/)", line)
        if match is None:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.url = match.group(1)
        self.put("/settings", {"step_seconds": step_seconds})

    def call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str) -> object:
        return self.call("GET", path)

    def put(self, path: str, body: object) -> object:
        return self.call("PUT", path, body)

    def fault(self, instance_id: str, **body: object) -> object:
        return self.call("POST", f"/tenants/{instance_id}/faults", body)

    def log(self, task_id: int) -> list[dict]:
        return self.get(f"/log?task_id={task_id}")  # type: ignore[return-value]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.stderr.close()
