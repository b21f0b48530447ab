"""The short form of `bench/lists.py` (2,000 seeded tenants, on PostgreSQL): every page it
measures answers 200 with its query count and figures, the floor and the other pages print.
It checks that the bench runs, not its timings (the 1,000,000 run is by hand)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lists.py"


def test_the_lists_bench_measures_every_page(tmp_path):
    server = os.environ.get("UCFLEET_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x"
    server = server.rsplit("/", 1)[0]
    database = f"ucfleet_lists_test_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {database}")
    try:
        result = subprocess.run(
            [sys.executable, str(BENCH), "--tenants", "2000", "--samples", "2"],
            env={
                **os.environ,
                "UCFLEET_DATABASE_URL": f"{server}/{database}",
                "UCFLEET_DATA_DIR": str(tmp_path),
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert "postgresql: 2,000 tenants, 2,000 tasks" in output
    rows = re.findall(r"^(/\S*)\s+(platform|partner)\s+(\d+)\s+([\d.]+)\s+([\d.]+)", output, re.M)
    pages = {(url, who) for url, who, *_ in rows}
    for page in [
        ("/tenants/", "platform"),
        ("/tenants/?q=alpha-00165", "platform"),
        ("/tasks/?q=alpha-001", "platform"),
        ("/api/v1/update-tasks/", "partner"),
        ("/partners/", "platform"),
        ("/scale-units/", "partner"),
        ("/updates/new/", "partner"),
        ("/", "platform"),
    ]:
        assert page in pages, output
    assert all(int(queries) > 0 for _, _, queries, *_ in rows)
    assert re.search(r"floor, an authenticated request .*: \d+ queries, p50 [\d.]+ ms", output)
    assert re.search(r"worst ratio request/raw: [\d.]+", output)
