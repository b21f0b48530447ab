"""The short form of bench/scale.py (5,000 seeded tenants): schedule-all writes exactly the
rows its COPY floor writes, both roll back, and the figures print (the 1,000,000 run is by
hand: bench/scale.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ucfleet.tenants.models import Tenant
from ucfleet.updates.models import UpdateTask

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


def test_schedule_all_short_form():
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = bench  # dataclasses look their module up
    spec.loader.exec_module(bench)
    figures = bench.run(5000, in_process_seed=True)
    assert Tenant.objects.count() == 5000
    assert figures.created + figures.skipped == 5000 and figures.created > 4000
    assert UpdateTask.objects.count() == 0  # both runs rolled back
    # No memory assertion here: ru_maxrss is the whole pytest process's high-water mark
    # (hundreds of MB after the rest of the suite); bench/scale.py, run alone, reports it.
    print(f"short form: ratio {figures.ratio:.2f}, peak {figures.peak_mb:.0f} MB")
