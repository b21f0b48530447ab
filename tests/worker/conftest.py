"""Worker fixtures: fast loop settings, tasks on scale units, running the real loop."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ScaleUnitFactory, TenantFactory, UpdateTaskFactory
from ucfleet.updates.models import TaskAttempt
from ucfleet.worker.runner import run_worker

FAST = {
    "WORKER_POLL_SECONDS": 0.02,
    "WORKER_HEARTBEAT_SECONDS": 0.2,
    "WORKER_TTL_SECONDS": 30.0,
    "WORKER_CONCURRENCY": 2,
    "DRIVER": "simulated",
    "SIMULATED_SECONDS": 0.0,
    "SIMULATED_FAILURE_SHARE": 0.0,
    "SIMULATED_SEED": 7,
    "MAX_CONCURRENT_TASKS": 20,
}


@pytest.fixture
def ucfleet_settings(settings):
    """Set UCFLEET keys for one test (a new dict, so pytest-django restores the old one)."""

    def apply(**values):
        settings.UCFLEET = {**settings.UCFLEET, **values}
        return settings.UCFLEET

    apply(**FAST)
    return apply


@pytest.fixture
def burst(ucfleet_settings):
    """Run the real worker loop in this thread until nothing is due or running."""

    def run(**kwargs):
        kwargs.setdefault("burst", True)
        return run_worker(**kwargs)

    return run


@pytest.fixture
def make_tasks(versions, partner_a):
    """`n` planned tasks, one per new tenant of partner A on `unit` (None: no scale unit)."""

    def make(n, *, unit=None, target="new", **fields):
        fields.setdefault("request_id", uuid.uuid4())  # the n tasks of one request
        tasks = []
        for _ in range(n):
            tenant = TenantFactory(partner=partner_a, version=versions["current"], scale_unit=unit)
            tasks.append(
                UpdateTaskFactory(tenant=tenant, target_version=versions[target], **fields)
            )
        return tasks

    return make


@pytest.fixture
def unit_of_two(db):
    return ScaleUnitFactory(name="ams-2", max_concurrent_tasks=2)


def ago(**kwargs) -> timezone.datetime:
    return timezone.now() - timedelta(**kwargs)


def max_overlap(intervals) -> int:
    """The most intervals [start, end) open at one instant (an end before a start at a tie:
    a slot freed and reused in the same instant is not an overlap)."""
    events = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
        key=lambda ev: (ev[0], ev[1]),
    )
    open_now = peak = 0
    for _, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def attempt_intervals(**filters):
    return list(TaskAttempt.objects.filter(**filters).values_list("started", "finished"))
