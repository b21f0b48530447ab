"""What every driver shares (R13): the task as plain data, the steps, the attempt log.

Drivers run in the worker's threads and never touch the database: they get a `TaskSpec`
(plain data, built by the loop from the claimed task) and write their steps to an
`Execution`, whose log the loop stores in the task's attempt.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

PRE_CHECK = "pre-check"
UPDATE = "update"
REDEPLOY = "redeploy"
HEALTH_CHECK = "health-check"


@dataclass(frozen=True)
class TenantSpec:
    id: int
    name: str
    domain: str
    instance_id: str
    language: str
    partner: str
    scale_unit: str


@dataclass(frozen=True)
class TaskSpec:
    """What a driver knows of a task: the same fields go to scripts and provisioning APIs."""

    task_id: int
    attempt_id: int
    task_type: str
    from_version: str
    target_version: str
    redeploy: bool
    forced: bool
    tenant: TenantSpec

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def steps(self) -> list[str]:
        return [PRE_CHECK, UPDATE, *([REDEPLOY] if self.redeploy else []), HEALTH_CHECK]


class DriverFailure(Exception):
    """The update failed; `reason` becomes the task's failure reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HandBack(Exception):
    """The worker is stopping and this task has not begun to change anything: return it."""


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Execution:
    """One attempt of one task as a driver thread sees it: its log and the stop request."""

    def __init__(self, spec: TaskSpec, *, stop: threading.Event | None = None) -> None:
        self.spec = spec
        self.stop = stop or threading.Event()
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._version = 0

    def log(self, message: str) -> None:
        stamp = timestamp()
        with self._lock:
            self._lines.extend(f"{stamp} {line}" for line in message.splitlines() or [""])
            self._version += 1

    def text(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    @property
    def version(self) -> int:
        """Grows with every log call: the loop saves the log only when it changed."""
        return self._version


class Driver:
    """Runs the steps of R13 in order; subclasses perform one step in `run_step`.

    Until the update step begins nothing has changed on the tenant, so a stop request is
    honoured there by handing the task back; from then on the task runs to its end.
    """

    name = "driver"

    def __init__(self, *, timeout_seconds: float | None = None) -> None:
        self.timeout_seconds = timeout_seconds

    def run(self, execution: Execution) -> None:
        spec = execution.spec
        execution.log(
            f"{self.name} driver: {spec.task_type} {spec.tenant.name} (instance "
            f"{spec.tenant.instance_id}) from {spec.from_version} to {spec.target_version}"
        )
        deadline = None if self.timeout_seconds is None else time.monotonic() + self.timeout_seconds
        for step in spec.steps():
            if step == UPDATE and execution.stop.is_set():
                execution.log("worker stopping: handing the task back before the update")
                raise HandBack
            execution.log(f"{step}: started")
            try:
                self.run_step(step, execution, deadline=deadline)
            except DriverFailure as failure:
                execution.log(f"{step}: failed: {failure.reason}")
                raise DriverFailure(f"{step} failed: {failure.reason}") from failure
            execution.log(f"{step}: done")

    def run_step(self, step: str, execution: Execution, *, deadline: float | None) -> None:
        raise NotImplementedError

    def remaining(self, deadline: float | None) -> float | None:
        """Seconds left before the task's timeout; DriverFailure when none are."""
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise DriverFailure(f"timed out after {self.timeout_seconds:g} s")
        return left


def keep_tail(text: str, limit: int = 20_000) -> str:
    """Long outputs keep their end, where errors usually are."""
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} characters cut …]\n" + text[-limit:]
