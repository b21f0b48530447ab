"""Helpers for tests that run `ucfleet worker` as real processes against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
