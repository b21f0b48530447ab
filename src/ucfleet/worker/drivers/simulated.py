"""The default driver for demos and tests: takes a while, fails a given share (R13).

Which task fails, and in which step, is a function of the seed and the task id only, so a
run with the same seed fails the same tasks whatever the timing or the worker.
"""

from __future__ import annotations

import random
import time

from ucfleet.worker.drivers.base import Driver, DriverFailure, Execution


class SimulatedDriver(Driver):
    name = "simulated"

    def __init__(self, *, seconds: float, failure_share: float, seed: int) -> None:
        super().__init__(timeout_seconds=None)
        self.seconds = max(0.0, seconds)
        self.failure_share = failure_share
        self.seed = seed

    def failing_step(self, task_id: int, steps: list[str]) -> str | None:
        """The step in which this task fails, or None when it succeeds."""
        rng = random.Random(f"{self.seed}:{task_id}")
        if rng.random() >= self.failure_share:
            return None
        return rng.choice(steps)

    def run_step(self, step: str, execution: Execution, *, deadline: float | None) -> None:
        steps = execution.spec.steps()
        if self.seconds:
            time.sleep(self.seconds / len(steps))
        if self.failing_step(execution.spec.task_id, steps) == step:
            raise DriverFailure(f"simulated failure (seed {self.seed})")
        execution.log(f"{step}: simulated ({self.seconds / len(steps):.3f} s)")
