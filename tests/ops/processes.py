"""Portal processes for the operations tests: gunicorn started with the command of
docs/deploy.md, on a port the system picks (read back from gunicorn's log)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.worker.processes import wait_until

GUNICORN = Path(sys.executable).with_name("gunicorn")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


class Portal:
    """`gunicorn -c python:ucfleet.config.gunicorn ucfleet.config.wsgi` on 127.0.0.1:0."""

    def __init__(self, *, env: dict[str, str], log_dir: Path, name: str = "portal") -> None:
        self.out = log_dir / f"{name}.out"
        self.err = log_dir / f"{name}.err"
        # The child keeps its own copies of these descriptors; ours close when it stops.
        self._files = [self.out.open("w"), self.err.open("w")]
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                "python:ucfleet.config.gunicorn",
                "--bind",
                "127.0.0.1:0",
                "--workers",
                "2",
                "ucfleet.config.wsgi",
            ],
            env=env,
            stdout=self._files[0],
            stderr=self._files[1],
        )
        found = wait_until(
            lambda: self._port() is not None or self.process.poll() is not None,
            timeout=60,
            every=0.1,
        )
        port = self._port()
        if not found or port is None:
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{self.err.read_text()}")
        self.url = f"http://127.0.0.1:{port}"

    def _port(self) -> int | None:
        for line in self.err.read_text().splitlines():
            try:
                text = json.loads(line).get("message", "")
            except ValueError:
                text = line
            match = LISTENING.search(text)
            if match:
                return int(match.group(1))
        return None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            for file in self._files:
                file.close()
