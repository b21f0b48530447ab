"""Query-count baselines: the absolute number of queries each page and endpoint costs, kept
in one file (query_baselines.json) so that a change in cost shows up in review.

The guards still compare a short list with a long one (no query per row); the baseline pins
the number itself. After an intended change, record the new numbers with

    UCFLEET_RECORD_QUERY_BASELINES=1 .venv/bin/pytest -p no:cacheprovider -q \
        tests/api/test_query_counts.py tests/web/test_query_counts.py

and commit the file with the change that explains them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BASELINE_FILE = Path(__file__).with_name("query_baselines.json")


def _load() -> dict[str, int]:
    if not BASELINE_FILE.exists():
        return {}
    return json.loads(BASELINE_FILE.read_text(encoding="utf-8"))


def expect_queries(key: str, measured: int) -> None:
    """Assert that `key` costs its baseline's number of queries (or record it)."""
    baselines = _load()
    if os.environ.get("UCFLEET_RECORD_QUERY_BASELINES"):
        baselines[key] = measured
        text = json.dumps(dict(sorted(baselines.items())), indent=2, ensure_ascii=False)
        BASELINE_FILE.write_text(text + "\n", encoding="utf-8")
        return
    assert key in baselines, (
        f"no query baseline for {key!r} (measured {measured}); record it as "
        "tests/query_baselines.py says"
    )
    assert measured == baselines[key], (
        f"{key}: {measured} queries, the baseline is {baselines[key]} (tests/query_baselines.json)"
    )
