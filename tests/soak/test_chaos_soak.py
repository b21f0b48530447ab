"""The chaos soak's short form (bench/soak.py --short, issue 13, R28): real worker and
sender processes, the simulator over HTTP, a throw-away PostgreSQL cluster restarted once,
SIGKILLs and an SMTP outage — and every invariant checked from both sides at the end.

It runs in the PostgreSQL leg of the test command; it needs the PostgreSQL server binaries
(initdb, pg_ctl), found the way the soak finds them, and skips with that reason without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from soak_env import find_pg_bindir  # noqa: E402

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]
PORT_BASE = "18740"  # not the soak's default, so a soak run by hand does not collide


@pytest.mark.skipif(
    find_pg_bindir() is None,
    reason="the chaos soak needs the PostgreSQL server binaries (initdb, pg_ctl): "
    "install Debian's postgresql or set UCFLEET_SOAK_PG_BIN",
)
def test_the_short_chaos_soak_keeps_every_invariant(tmp_path):
    figures_file = tmp_path / "soak.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    if os.environ.get("UCFLEET_SOAK_PG_BIN"):
        env["UCFLEET_SOAK_PG_BIN"] = os.environ["UCFLEET_SOAK_PG_BIN"]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "soak.py"),
            "--short",
            "--port-base",
            PORT_BASE,
            "--json",
            str(figures_file),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    print(output)  # the figures, in the test log
    assert done.returncode == 0, output
    result = json.loads(figures_file.read_text())
    figures, invariants = result["figures"], result["invariants"]
    assert invariants and not any(invariants.values()), invariants
    # The chaos happened: kills, one PostgreSQL restart, failures of each kind.
    assert figures["tasks"] == 300
    assert figures["SIGKILLs"] >= 3
    assert figures["PostgreSQL restart (s down)"] > 0
    reasons = figures["failures by reason"]
    # A faulted tenant's task fails its update and is restored, unless a kill took it first.
    assert 0 < reasons.get("update failed: restored", 0) <= figures["faulted updates (2 %)"]
    assert reasons.get("interrupted: worker lost", 0) > 0
    assert figures["attempts by outcome"].get("waiting", 0) > 0  # busy tenants waited (R25)
    assert figures["e-mails"]["received"] == figures["e-mails"]["outbox"] > 0
