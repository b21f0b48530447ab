from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.simulator.process import SimulatorProcess, running_simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    """One simulator per test module with fast steps; tests use tenants of their own."""
    with running_simulator("--step-seconds", "0.05") as simulator:
        yield simulator


@pytest.fixture
def instance() -> str:
    return f"uc-{uuid.uuid4().hex[:10]}"
