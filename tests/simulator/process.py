"""Runs `ucfleet simulator` as a real process on a free port and talks to it over HTTP.

Usable from any test that needs the simulator as a peer (the http driver's end-to-end tests):

    with running_simulator("--step-seconds", "0.05") as sim:
        status, body = sim.call("GET", "/healthz")
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

UCFLEET = Path(sys.executable).with_name("ucfleet")
_task_ids = itertools.count(1_000_000)
BANNER = re.compile(r"listening on (http://[^/\s]+/)")


class SimulatorProcess:
    def __init__(self, process: subprocess.Popen, url: str, token: str = "") -> None:
        self.process = process
        self.url = url
        self.token = token
        self.output: list[
            str
        ] = []  # what it printed after its banner (drained, so it never blocks)
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """(status, decoded JSON answer) — HTTP errors are answers too, not exceptions."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        token = self.token if token is None else token
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            urllib.parse.urljoin(self.url, path.lstrip("/")),
            data=data,
            method=method,
            headers=all_headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
                self.last_headers = dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
            self.last_headers = dict(exc.headers)
        content_type = self.last_headers.get("Content-Type", "")
        assert content_type.startswith("application/json"), (status, content_type, payload)
        return status, json.loads(payload)

    def start_step(self, instance_id: str, step: str, **fields: Any) -> str:
        """Starts `step` with a plausible request (`fields` override it); the operation id."""
        body = {
            "task_id": next(_task_ids),  # unique unless the test says otherwise
            "attempt_id": 1,
            "from_version": "14.9",
            "target_version": "15.0",
            "tenant": {"instance_id": instance_id, "name": instance_id},
            **fields,
        }
        path = f"/tenants/{urllib.parse.quote(instance_id, safe='')}/steps/{step}"
        status, answer = self.call("POST", path, body)
        assert status == 202, (status, answer)
        return answer["operation_id"]

    def wait(self, operation_id: str, *, timeout: float = 20.0) -> dict[str, Any]:
        """The operation once it has ended (polled as the http driver does)."""
        deadline = time.monotonic() + timeout
        while True:
            status, operation = self.call("GET", f"/operations/{operation_id}")
            assert status == 200, (status, operation)
            if operation["status"] != "running" or time.monotonic() > deadline:
                return operation
            time.sleep(0.02)

    def run_step(self, instance_id: str, step: str, **fields: Any) -> dict[str, Any]:
        return self.wait(self.start_step(instance_id, step, **fields))

    def threads(self) -> int:
        """The process's thread count, from the kernel (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE).group(1))  # type: ignore[union-attr]


def simulator_command() -> list[str]:
    command = [str(UCFLEET)] if UCFLEET.exists() else [sys.executable, "-m", "ucfleet.cli"]
    return [*command, "simulator"]


@contextlib.contextmanager
def running_simulator(
    *args: str, token: str = "", env: dict[str, str] | None = None, timeout: float = 20.0
) -> Iterator[SimulatorProcess]:
    """The simulator on a port the kernel picks (`--port 0`, read back from its banner)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    child_env.update(env or {})
    process = subprocess.Popen(
        [*simulator_command(), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env,
    )
    simulator = None
    try:
        url = _read_banner(process, timeout=timeout)
        simulator = SimulatorProcess(process, url, token)
        yield simulator
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if simulator is not None:
            simulator._drain.join(timeout=5)
        if process.stdout:
            process.stdout.close()


def _read_banner(process: subprocess.Popen, *, timeout: float) -> str:
    # The banner is the first line; a simulator that cannot start exits and says why.
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator exited ({process.wait()}) before listening")
        match = BANNER.search(line)
        if match:
            return match.group(1)
    raise RuntimeError("the simulator did not report its address in time")
