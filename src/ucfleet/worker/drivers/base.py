"""What every driver shares (R24): the task as plain data, the steps, the attempt's record.

Drivers run on the worker's event loop (or, when they block, in its thread pool) and never
touch the database: they get a `TaskSpec`
(plain data, built by the loop from the claimed task) and perform one step at a time
(`Driver.perform`). The order of the steps and the restore decision live once, in
`ucfleet.worker.steps`; the step contract is `docs/drivers.md`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

PRE_CHECK = "pre_check"
BACKUP = "backup"
UPDATE = "update"
REDEPLOY = "redeploy"
HEALTH_CHECK = "health_check"
RESTORE = "restore"
STEPS = (PRE_CHECK, BACKUP, UPDATE, REDEPLOY, HEALTH_CHECK, RESTORE)

# How a step is named in failure reasons and logs ("health check failed: restored to 14.9").
STEP_LABELS = {
    PRE_CHECK: "pre-check",
    BACKUP: "backup",
    UPDATE: "update",
    REDEPLOY: "redeploy",
    HEALTH_CHECK: "health check",
    RESTORE: "restore",
}

SUCCEEDED = "succeeded"
FAILED = "failed"
MAX_OUTPUT = 20_000


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
    wait_for_idle: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_pure_redeployment(self) -> bool:
        """A redeployment of the version the tenant runs: there is nothing to update."""
        return self.redeploy and self.from_version == self.target_version

    def steps(self) -> list[str]:
        """The steps in order when all goes well (restore runs only after a failure)."""
        return [
            PRE_CHECK,
            BACKUP,
            *([] if self.is_pure_redeployment else [UPDATE]),
            *([REDEPLOY] if self.redeploy else []),
            HEALTH_CHECK,
        ]

    def step_body(self, step: str, *, backup_id: str | None = None) -> dict[str, Any]:
        """The JSON a step gets, for every driver alike (docs/drivers.md)."""
        return {
            "task_id": self.task_id,
            "attempt_id": self.attempt_id,
            "from_version": self.from_version,
            "target_version": self.target_version,
            "backup_id": backup_id if step == RESTORE else None,
            "tenant": dict(self._tenant_fields),  # a copy: no driver changes the next body
        }

    @functools.cached_property
    def _tenant_fields(self) -> dict[str, Any]:
        # Once per task: asdict was a twentieth of a step's cost in bench/fleet.py.
        return asdict(self.tenant)


class DriverFailure(Exception):
    """The step failed; `reason` says why (the loop turns it into the task's reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HandBack(Exception):
    """The worker is stopping and this task has not begun to change anything: return it."""


_last_stamp: tuple[int, str] = (-1, "")


def timestamp() -> str:
    """Now as `2026-12-01T20:00:00.123Z`. Thousands of tasks log in the same millisecond:
    the text is made once per millisecond (formatting it was a tenth of a no-op task)."""
    global _last_stamp
    milliseconds = time.time_ns() // 1_000_000
    known, text = _last_stamp
    if milliseconds != known:
        seconds, rest = divmod(milliseconds, 1000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest:03d}Z"
        _last_stamp = (milliseconds, text)  # one assignment: safe across threads
    return text


def keep_tail(text: str, limit: int = MAX_OUTPUT) -> str:
    """Long outputs keep their end, where errors usually are."""
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} characters cut …]\n" + text[-limit:]


@dataclass
class StepRecord:
    """One step as it ran: what the task page's timeline and the API's `steps` show."""

    step: str
    started: datetime
    finished: datetime | None = None
    outcome: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return keep_tail("\n".join(self.lines))


class Execution:
    """One attempt of one task as a driver thread sees it: its log, its steps, the stop
    request. The loop reads `text()` and `finished_steps()` from its own thread."""

    def __init__(self, spec: TaskSpec, *, stop: threading.Event | None = None) -> None:
        self.spec = spec
        self.stop = stop or threading.Event()
        self._lines: list[str] = []
        self._steps: list[StepRecord] = []
        self._current: StepRecord | None = None
        self._lock = threading.Lock()
        self._version = 0

    def log(self, message: str) -> None:
        """A line for the attempt log; during a step it is part of that step's output."""
        stamp = timestamp()
        lines = message.splitlines() or [""]
        with self._lock:
            self._lines.extend(f"{stamp} {line}" for line in lines)
            if self._current is not None:
                self._current.lines.extend(lines)
            self._version += 1

    def begin_step(self, step: str) -> StepRecord:
        record = StepRecord(step=step, started=datetime.now(UTC))
        with self._lock:
            self._steps.append(record)
            self._current = record
        self.log(f"{step}: started")
        return record

    def end_step(self, record: StepRecord, *, outcome: str, detail: str) -> None:
        self.log(f"{record.step}: {outcome}{': ' + detail if detail else ''}")
        with self._lock:
            record.finished = datetime.now(UTC)
            record.outcome = outcome
            self._current = None
            self._version += 1

    def text(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def finished_steps(self, *, after: int = 0) -> list[StepRecord]:
        """The steps that have ended, from index `after` on (the loop saves them in batches)."""
        with self._lock:
            done = []
            for record in self._steps[after:]:
                if record.finished is None:
                    break
                done.append(record)
            return done

    @property
    def version(self) -> int:
        """Grows with every change: the loop saves the log only when it changed."""
        return self._version


def result_text(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True, default=str)


class Driver:
    """Performs one step of a task on its tenant (docs/drivers.md).

    `perform` returns the step's result (a JSON object) or raises `DriverFailure`. It knows
    nothing of the order of the steps or of restoring: `ucfleet.worker.steps` decides that.
    Each step has its own timeout: `step_timeouts[step]`, else `timeout_seconds`.
    """

    name = "driver"

    def __init__(
        self,
        *,
        timeout_seconds: float | None = None,
        step_timeouts: dict[str, float] | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.step_timeouts = dict(step_timeouts or {})

    def perform(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def perform_async(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        """`perform` for the worker's event loop. This default runs the blocking `perform`
        in the loop's executor (the worker's bounded thread pool); a driver that waits on
        I/O overrides it and awaits instead (`http`), so that waiting costs no thread."""
        call = functools.partial(self.perform, step, execution, backup_id=backup_id)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    async def aclose(self) -> None:
        """Release what `perform_async` keeps between steps (connections), on its loop."""

    def timeout_for(self, step: str) -> float | None:
        return self.step_timeouts.get(step, self.timeout_seconds)

    def deadline_for(self, step: str) -> float | None:
        timeout = self.timeout_for(step)
        return None if timeout is None else time.monotonic() + timeout

    def remaining(self, step: str, deadline: float | None) -> float | None:
        """Seconds left before the step's timeout; DriverFailure when none are."""
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise DriverFailure(f"timed out after {self.timeout_for(step):g} s")
        return left
