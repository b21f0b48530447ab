"""The chaos soak's peers: a throw-away PostgreSQL cluster, an SMTP sink, the simulator, and
supervised child processes. Everything here talks to ucfleet only through its documented
commands (`ucfleet worker`, `ucfleet send-outbox`, `ucfleet simulator`) and HTTP.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path

UCFLEET = Path(sys.executable).with_name("ucfleet")


def ucfleet_command() -> list[str]:
    return [str(UCFLEET)] if UCFLEET.exists() else [sys.executable, "-m", "ucfleet.cli"]


# --- PostgreSQL: a cluster of our own, so that restarting it disturbs nobody else ----------------


def find_pg_bindir() -> Path | None:
    """The directory with initdb, pg_ctl and postgres: UCFLEET_SOAK_PG_BIN, else Debian's
    /usr/lib/postgresql/<newest>/bin, else wherever `initdb` is on PATH. None when absent."""
    candidates: list[str] = []
    if os.environ.get("UCFLEET_SOAK_PG_BIN"):
        candidates.append(os.environ["UCFLEET_SOAK_PG_BIN"])
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: int(re.sub(r"\D", "", p) or 0), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        path = Path(folder)
        if all((path / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def _as_user_prefix() -> tuple[list[str], str | None]:
    """initdb refuses to run as root: run the server as `postgres` (or `nobody`) then."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", user, "--"], user
        if shutil.which("setpriv"):
            entry = pwd.getpwnam(user)
            return [
                "setpriv",
                f"--reuid={entry.pw_uid}",
                f"--regid={entry.pw_gid}",
                "--clear-groups",
            ], user
    raise RuntimeError("running as root and neither runuser nor setpriv is available")


class Cluster:
    """initdb + pg_ctl in `base`, listening on 127.0.0.1:`port` (trust authentication)."""

    def __init__(self, bindir: Path, base: Path, port: int) -> None:
        self.bindir, self.base, self.port = bindir, base, port
        self.data = base / "pgdata"
        self.logfile = base / "postgresql.log"
        self.prefix, user = _as_user_prefix()
        base.mkdir(parents=True, exist_ok=True)
        if user:
            entry = pwd.getpwnam(user)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{port}/ucfleet_soak"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()
        self._run(
            str(self.bindir / "psql") if (self.bindir / "psql").exists() else "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-qc",
            "CREATE DATABASE ucfleet_soak",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> float:
        """Stop at once (`-m immediate`: a crash, every connection cut, recovery at start),
        then start again. Returns the seconds it was down."""
        began = time.monotonic()
        self.stop("immediate")
        self.start()
        return time.monotonic() - began


# --- SMTP: aiosmtpd, counting every copy of every Message-ID --------------------------------------


class SmtpSink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.received: Counter[str] = Counter()
        self.without_id = 0
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        with self.lock:
            mid = message.get("Message-ID")
            if mid:
                self.received[mid.strip()] += 1
            else:
                self.without_id += 1
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- the UC provisioning simulator, over HTTP -----------------------------------------------------


class Simulator:
    def __init__(self, *, port: int, token: str, log_dir: Path) -> None:
        self.token = token
        self.url = f"http://127.0.0.1:{port}/"
        self._err = (log_dir / "simulator.err").open("w")
        self.process = subprocess.Popen(
            [
                *ucfleet_command(),
                "simulator",
                "--port",
                str(port),
                "--token",
                token,
                "--log-file",
                str(log_dir / "simulator-operations.jsonl"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._err,
            env={k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.call("GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.1)

    def call(self, method: str, path: str, body: object = None) -> object:
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._err.close()


# --- supervised children -----------------------------------------------------------------------


class Child:
    """One `ucfleet …` process; `ensure()` restarts it when it exited on its own.

    `ready(pid)` tells whether the process got running (a worker: its row is registered
    with that pid). An exit before that is a failed start (e.g. the database was down just
    then) and is told apart from the death of a running process."""

    def __init__(
        self,
        name: str,
        args: list[str],
        *,
        env: dict[str, str],
        log_dir: Path,
        ready: Callable[[int], bool] | None = None,
    ) -> None:
        self.name, self.args, self.env, self.ready = name, args, env, ready
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._offset = 0
        self.unexpected_exits: list[str] = []  # a running process died: exit code, last line
        self.failed_starts: list[str] = []

    def start(self) -> None:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("a") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [*ucfleet_command(), *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def _since_start(self) -> str:
        with self.log.open(errors="replace") as log:
            log.seek(self._offset)
            return log.read()

    def is_ready(self) -> bool:
        return self.ready is None or (self.process is not None and self.ready(self.process.pid))

    def ensure(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            text = self._since_start()
            lines = [line for line in text.splitlines() if line.strip()]
            what = f"exit {self.process.returncode}: {lines[-1][:200] if lines else ''}"
            (self.unexpected_exits if self.is_ready() else self.failed_starts).append(what)
            self.start()

    def kill(self) -> None:
        """SIGKILL, reaped, then started again (same name: it takes its tasks over at once)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.start()

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM once it runs (a signal during start-up would only end the import)."""
        if self.process is None:
            return None
        deadline = time.monotonic() + 30
        while self.process.poll() is None and not self.is_ready() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
