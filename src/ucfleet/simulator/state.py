"""The simulated tenants and their operations (docs/drivers.md, "The UC provisioning simulator").

An operation is not a thread: starting a step computes when it ends and puts it in a
time-ordered queue; whoever next looks at the state (a request, or the server's timer set
for the earliest end) settles every operation whose end has passed, in order of their
ends. So thousands of operations in flight cost a heap entry each. One lock guards
everything; every method holds it only for in-memory work (and one log-file line).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from ucfleet.simulator.validation import (
    CHECKS,
    BadRequest,
    Conflict,
    FaultsChange,
    NotFound,
    StepRequest,
)


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


# The simulator's wall-clock texts are read off its monotonic timeline (the one operations
# end on), from one fixed offset: a step that starts after another ended is then never logged
# as starting before that end, whatever the system clock is slewed or stepped by meanwhile.
_WALL_OFFSET = time.time() - time.monotonic()


def wall(monotonic: float) -> float:
    return monotonic + _WALL_OFFSET


@dataclass
class Backup:
    backup_id: str
    version: str
    healthy: bool
    task_id: int
    created: float

    def view(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "version": self.version,
            "healthy": self.healthy,
            "task_id": self.task_id,
            "created": iso(self.created),
        }


@dataclass
class Operation:
    operation_id: str
    step: str
    instance_id: str
    request: StepRequest
    started_at: float  # monotonic
    ends_at: float  # monotonic
    duration: float
    fault: str | None  # the error of a fault or random failure decided at the start
    fault_check: str = "test_call"  # the health check a health_check fault fails
    status: str = "running"
    result: dict[str, Any] | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        # Both texts are known at the start; formatted once, not on every poll.
        self.started_text = iso(wall(self.started_at))
        self.finished_text = iso(wall(self.ends_at))

    def view(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "step": self.step,
            "instance_id": self.instance_id,
            "status": self.status,
            "result": self.result,
            "error": self.error,
            "started": self.started_text,
            "finished": None if self.status == "running" else self.finished_text,
        }

    def log_entry(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "step": self.step,
            "task_id": self.request.task_id,
            "attempt_id": self.request.attempt_id,
            "operation_id": self.operation_id,
            "started": self.started_text,
            "finished": None if self.status == "running" else self.finished_text,
            "outcome": self.status,
        }


@dataclass
class Tenant:
    instance_id: str
    version: str | None = None  # None: known only from faults, no step has run yet
    healthy: bool = True
    backups: dict[str, Backup] = field(default_factory=dict)
    step_faults: dict[str, int] = field(default_factory=dict)
    health_fault_check: str = "test_call"
    busy_calls: int = 0
    busy_until: float = 0.0  # monotonic
    operations: list[Operation] = field(default_factory=list)

    def active_calls(self, at: float) -> int:
        return self.busy_calls if at < self.busy_until else 0

    def view(self, now: float) -> dict[str, Any]:
        busy = None
        if self.active_calls(now):
            busy = {"calls": self.busy_calls, "until": iso(wall(self.busy_until))}
        steps: dict[str, dict[str, Any]] = {}
        for step, times in self.step_faults.items():
            steps[step] = {"times": times}
            if step == "health_check":
                steps[step]["check"] = self.health_fault_check
        return {
            "instance_id": self.instance_id,
            "version": self.version,
            "active_calls": self.active_calls(now),
            "healthy": self.healthy,
            "backups": [backup.view() for backup in self.backups.values()],
            "faults": {"steps": steps, "busy": busy},
        }


DEFAULT_SETTINGS: dict[str, Any] = {
    "step_seconds": 1.0,
    "per_step_seconds": {},
    "fail_percent": {},
    "busy_percent": 0.0,
    "busy_seconds": 10.0,
    "seed": None,
}


class Simulator:
    def __init__(self, *, step_seconds: float = 1.0, log_file: IO[str] | None = None) -> None:
        self._lock = threading.Lock()
        # Called (under the lock) when an operation starts that ends before all others: the
        # server's timer (server.py) must then settle earlier than it planned.
        self.sooner: Callable[[], None] = lambda: None
        self._settings = {**DEFAULT_SETTINGS, "step_seconds": step_seconds}
        self._random = random.Random()
        self._tenants: dict[str, Tenant] = {}
        self._operations: dict[str, Operation] = {}
        self._by_key: dict[tuple[int, int, str], Operation] = {}
        self._queue: list[tuple[float, int, Operation]] = []
        self._order = itertools.count()
        self._log_file = log_file
        # operation id -> what to call when it ends (held `?wait=` requests, app.py)
        self._waiters: dict[str, list[Callable[[], None]]] = {}

    # --- the driver's side ---------------------------------------------------------------

    def start_step(self, instance_id: str, step: str, request: StepRequest) -> Operation:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            existing = self._by_key.get((request.task_id, request.attempt_id, step))
            if existing is not None:
                if existing.instance_id != instance_id:
                    raise Conflict(
                        f"task {request.task_id} attempt {request.attempt_id} already ran "
                        f"{step} on tenant {existing.instance_id}"
                    )
                return existing
            tenant = self._tenants.get(instance_id)
            if step == "restore" and (tenant is None or request.backup_id not in tenant.backups):
                raise BadRequest(f"tenant {instance_id} has no backup {request.backup_id}")
            if tenant is None:
                tenant = self._tenants[instance_id] = Tenant(instance_id)
            if tenant.version is None:
                tenant.version = request.from_version
            duration = self._duration(step)
            operation = Operation(
                operation_id=f"op-{uuid.uuid4().hex}",
                step=step,
                instance_id=instance_id,
                request=request,
                started_at=now,
                ends_at=now + duration,
                duration=duration,
                fault=self._take_fault(tenant, step),
                fault_check=tenant.health_fault_check,
            )
            if step == "pre_check":
                self._maybe_make_busy(tenant, operation.ends_at)
            self._operations[operation.operation_id] = operation
            self._by_key[(request.task_id, request.attempt_id, step)] = operation
            tenant.operations.append(operation)
            heapq.heappush(self._queue, (operation.ends_at, next(self._order), operation))
            if self._queue[0][2] is operation:
                self.sooner()
            return operation

    def operation(self, operation_id: str) -> dict[str, Any]:
        with self._lock:
            self._settle(time.monotonic())
            operation = self._operations.get(operation_id)
            if operation is None:
                raise NotFound(f"no operation {operation_id}")
            return operation.view()

    def when_ended(
        self, operation_id: str, callback: Callable[[], None]
    ) -> Callable[[], None] | None:
        """Call `callback` (under the lock, from whichever thread settles it: it must only
        hand over, e.g. `loop.call_soon_threadsafe`) when the operation ends; what to call
        to stop waiting (a held request whose wait has passed). None when the operation
        has ended already or is unknown: then nothing is called."""
        with self._lock:
            self._settle(time.monotonic())
            operation = self._operations.get(operation_id)
            if operation is None or operation.status != "running":
                return None
            self._waiters.setdefault(operation_id, []).append(callback)
            return functools.partial(self._stop_waiting, operation_id, callback)

    def _stop_waiting(self, operation_id: str, callback: Callable[[], None]) -> None:
        # Without this, a client asking again and again with short waits would pile up
        # callbacks for as long as the operation runs.
        with self._lock:
            waiting = self._waiters.get(operation_id, [])
            if callback in waiting:
                waiting.remove(callback)
            if not waiting:
                self._waiters.pop(operation_id, None)

    # --- the tester's side ---------------------------------------------------------------

    def tenant(self, instance_id: str) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            return self._known(instance_id).view(now)

    def tenant_log(self, instance_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._settle(time.monotonic())
            return [operation.log_entry() for operation in self._known(instance_id).operations]

    def log(
        self, *, task_id: int | None, instance_id: str | None, step: str | None
    ) -> list[dict[str, Any]]:
        with self._lock:
            self._settle(time.monotonic())
            tenants: list[Tenant] = list(self._tenants.values())
            if instance_id is not None:
                tenants = [self._tenants[instance_id]] if instance_id in self._tenants else []
            entries = [
                operation
                for tenant in tenants
                for operation in tenant.operations
                if (task_id is None or operation.request.task_id == task_id)
                and (step is None or operation.step == step)
            ]
            entries.sort(key=lambda operation: operation.started_at)
            return [operation.log_entry() for operation in entries]

    def add_faults(self, instance_id: str, change: FaultsChange) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            tenant = self._tenants.setdefault(instance_id, Tenant(instance_id))
            if change.step is not None:
                tenant.step_faults[change.step] = (
                    tenant.step_faults.get(change.step, 0) + change.times
                )
                if change.step == "health_check":
                    tenant.health_fault_check = change.check
            if change.busy_seconds is not None:
                tenant.busy_calls = change.calls
                tenant.busy_until = now + change.busy_seconds
            return tenant.view(now)

    def clear_faults(self, instance_id: str) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            tenant = self._known(instance_id)
            tenant.step_faults.clear()
            tenant.busy_calls, tenant.busy_until = 0, 0.0
            return tenant.view(now)

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._settings))

    def change_settings(self, change: dict[str, Any]) -> dict[str, Any]:
        """New durations apply to running operations too: they end at their start plus the
        new duration (so a test can hold operations in flight, then let them all end)."""
        with self._lock:
            self._settle(time.monotonic())
            self._settings.update(change)
            if "seed" in change:
                self._random.seed(change["seed"])
            if {"step_seconds", "per_step_seconds"} & set(change):
                for _, _, operation in self._queue:
                    operation.duration = self._duration(operation.step)
                    operation.ends_at = operation.started_at + operation.duration
                self._queue = [(op.ends_at, order, op) for _, order, op in self._queue]
                heapq.heapify(self._queue)
                self._settle(time.monotonic())
                self.sooner()
            return json.loads(json.dumps(self._settings))

    # --- the scheduler -------------------------------------------------------------------

    def settle_due(self) -> float | None:
        """Settle the operations whose end has passed (so state and log file move on without
        polls); the seconds until the next one ends, None when none runs."""
        with self._lock:
            now = time.monotonic()
            self._settle(now)
            return max(self._queue[0][0] - now, 0.0) if self._queue else None

    def running(self) -> int:
        with self._lock:
            self._settle(time.monotonic())
            return len(self._queue)

    # --- inside the lock -----------------------------------------------------------------

    def _known(self, instance_id: str) -> Tenant:
        tenant = self._tenants.get(instance_id)
        if tenant is None:
            raise NotFound(f"no tenant {instance_id}")
        return tenant

    def _duration(self, step: str) -> float:
        return float(self._settings["per_step_seconds"].get(step, self._settings["step_seconds"]))

    def _take_fault(self, tenant: Tenant, step: str) -> str | None:
        left = tenant.step_faults.get(step, 0)
        if left:
            if left == 1:
                del tenant.step_faults[step]
            else:
                tenant.step_faults[step] = left - 1
            return f"{step} failed (simulated fault)"
        percent = self._settings["fail_percent"].get(step, 0.0)
        if percent and self._random.random() * 100 < percent:
            return f"{step} failed (simulated random failure, {percent:g} %)"
        return None

    def _maybe_make_busy(self, tenant: Tenant, at: float) -> None:
        percent = self._settings["busy_percent"]
        if percent and not tenant.active_calls(at) and self._random.random() * 100 < percent:
            tenant.busy_calls = self._random.randint(1, 5)
            tenant.busy_until = at + self._settings["busy_seconds"]

    def _settle(self, now: float) -> None:
        settled = False
        while self._queue and self._queue[0][0] <= now:
            _, _, operation = heapq.heappop(self._queue)
            self._finish(operation, self._tenants[operation.instance_id])
            settled = True
        if settled and self._log_file is not None:
            self._log_file.flush()  # once per batch of ends, not once per operation

    def _finish(self, operation: Operation, tenant: Tenant) -> None:
        """The step's outcome and effect, as of the moment it ended."""
        step, request = operation.step, operation.request
        failed = operation.fault is not None
        result: dict[str, Any] | None = None
        error = operation.fault
        if step == "pre_check" and not failed:
            result = {
                "reachable": True,
                "version": tenant.version,
                "version_supported": True,
                "active_calls": tenant.active_calls(operation.ends_at),
                "healthy": tenant.healthy,
            }
        elif step == "backup" and not failed:
            backup = Backup(
                backup_id=f"bk-{uuid.uuid4().hex[:16]}",
                version=str(tenant.version),
                healthy=tenant.healthy,
                task_id=request.task_id,
                created=wall(operation.ends_at),
            )
            tenant.backups[backup.backup_id] = backup
            result = {"backup_id": backup.backup_id}
        elif step == "update":
            if not failed:
                tenant.version = request.target_version
            tenant.healthy = not failed
            result = None if failed else {"version": tenant.version}
        elif step in ("redeploy", "restore"):
            if not failed and step == "restore":
                tenant.version = tenant.backups[str(request.backup_id)].version
            tenant.healthy = not failed
            result = None if failed else {"version": tenant.version}
        elif step == "health_check":
            checks = dict.fromkeys(CHECKS, tenant.healthy)
            if failed:
                checks[operation.fault_check] = False
            result = checks
            broken = [name for name in CHECKS if not checks[name]]
            if broken:
                failed = True
                error = f"health check failed: {', '.join(broken)}"
                if operation.fault:
                    error += " (simulated fault)"
        operation.status = "failed" if failed else "succeeded"
        operation.result, operation.error = result, error
        if self._log_file is not None:
            self._log_file.write(json.dumps(operation.log_entry()) + "\n")
        for callback in self._waiters.pop(operation.operation_id, ()):
            callback()
