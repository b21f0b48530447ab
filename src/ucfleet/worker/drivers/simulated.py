"""The in-process driver for unit tests: takes a while, fails a given share (R24).

Which task fails, and in which step, is a function of the seed and the task id only, so a
run with the same seed fails the same tasks whatever the timing or the worker. Its tenants
are always idle and every restore succeeds; the UC provisioning simulator (`ucfleet
simulator`, through the http driver) is the one to script busy tenants and faults with.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from typing import Any

from ucfleet.worker.drivers.base import (
    BACKUP,
    HEALTH_CHECK,
    PRE_CHECK,
    REDEPLOY,
    RESTORE,
    UPDATE,
    Driver,
    DriverFailure,
    Execution,
)


class SimulatedDriver(Driver):
    name = "simulated"

    def __init__(self, *, seconds: float, failure_share: float, seed: int) -> None:
        super().__init__(timeout_seconds=None)
        self.seconds = max(0.0, seconds)
        self.failure_share = failure_share
        self.seed = seed

    def failing_step(self, task_id: int, steps: list[str]) -> str | None:
        """The step in which this task fails, or None when it succeeds."""
        return _failing_step(self.seed, self.failure_share, task_id, tuple(steps))

    def _pause(self, execution: Execution, step: str) -> float:
        return self.seconds / len(execution.spec.steps()) if step != RESTORE else 0.0

    def perform(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        if pause := self._pause(execution, step):
            time.sleep(pause)
        return self._result(step, execution)

    async def perform_async(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        # Simulated time is waited for on the loop: no thread per task.
        if pause := self._pause(execution, step):
            await asyncio.sleep(pause)
        return self._result(step, execution)

    def _result(self, step: str, execution: Execution) -> dict[str, Any]:
        spec = execution.spec
        steps = spec.steps()
        if step != RESTORE and self.failing_step(spec.task_id, steps) == step:
            raise DriverFailure(f"simulated failure (seed {self.seed})")
        results: dict[str, dict[str, Any]] = {
            PRE_CHECK: {
                "reachable": True,
                "version": spec.from_version,
                "version_supported": True,
                "active_calls": 0,
            },
            BACKUP: {"backup_id": f"simulated-{spec.task_id}-{spec.attempt_id}"},
            UPDATE: {"version": spec.target_version},
            REDEPLOY: {"version": spec.target_version},
            HEALTH_CHECK: {"service_up": True, "sip_registered": True, "test_call": True},
            RESTORE: {"version": spec.from_version},
        }
        return results[step]


@functools.lru_cache(maxsize=4096)
def _failing_step(
    seed: int, failure_share: float, task_id: int, steps: tuple[str, ...]
) -> str | None:
    # Asked once per step of a task: seeding a generator from text costs more than a step.
    rng = random.Random(f"{seed}:{task_id}")
    if rng.random() >= failure_share:
        return None
    return rng.choice(steps)
