"""The short form of `bench/fleet.py` (R28): 200 tenants, a global cap of 50, 1 s per task
in the UC provisioning simulator through the http driver, with 1 and 2 real worker
processes on PostgreSQL. It asserts correctness, not timing: the bench itself checks, from
ucfleet's tables and from the simulator's own log, that every task ran each step exactly
once and that no more than 50 ran at once, and exits non-zero otherwise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fleet.py"


def test_every_task_runs_once_and_the_cap_holds_with_one_and_two_workers(tmp_path):
    env = {**os.environ, "UCFLEET_DATA_DIR": str(tmp_path)}
    database = f"ucfleet_fleet_test_{os.getpid()}"
    result = subprocess.run(
        [
            *(sys.executable, str(BENCH), "--tenants", "200", "--cap", "50", "--seconds", "1"),
            *("--workers", "1,2", "--database", database),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "CHECK FAILED" not in output
    for workers in (1, 2):
        assert re.search(rf"PostgreSQL {workers} worker\(s\): makespan +[\d.]+ s", output), output
    checked = "200 tasks executed exactly once (ucfleet and the simulator's log), at most 50"
    assert output.count(checked) == 2, output
