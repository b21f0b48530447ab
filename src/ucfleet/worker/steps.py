"""The steps of one task, in order, and the restore decision (R24–R26), for every driver.

pre-check → backup → update (not for a pure redeployment) → redeploy (when asked) → health
check. A tenant with active calls stops the sequence after the pre-check (`Busy`) unless the
task does not wait for idle. When a step after the backup fails, the backup is restored:
the task fails "<step> failed: restored to <version>"; when the restore fails as well,
"restore failed: tenant needs attention" (`NeedsAttention`). Drivers only perform steps
(`Driver.perform`); they know nothing of this order. docs/drivers.md describes the contract.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ucfleet.worker.drivers.base import (
    BACKUP,
    FAILED,
    PRE_CHECK,
    RESTORE,
    STEP_LABELS,
    SUCCEEDED,
    Driver,
    DriverFailure,
    Execution,
    HandBack,
    result_text,
)

NEEDS_ATTENTION = "restore failed: tenant needs attention"


class Busy(Exception):
    """The tenant has active calls and the task waits for idle (R25)."""

    def __init__(self, active_calls: int) -> None:
        super().__init__(f"busy: {active_calls} active calls")
        self.active_calls = active_calls
        self.reason = busy_reason(active_calls)


class NeedsAttention(DriverFailure):
    """A step failed after the backup and restoring the backup failed too (R26)."""

    def __init__(self) -> None:
        super().__init__(NEEDS_ATTENTION)


def busy_reason(active_calls: int) -> str:
    # The wording is R25's, for one call too.
    return f"busy: {active_calls} active calls"


def _active_calls(result: dict[str, Any]) -> int:
    """The pre-check's active calls; DriverFailure for an unreachable tenant, an unsupported
    version or an answer without a count (nothing has changed on the tenant yet)."""
    if result.get("reachable") is False:
        raise DriverFailure("the tenant is not reachable")
    if result.get("version_supported") is False:
        raise DriverFailure(f"version {result.get('version', '?')} is not supported")
    value = result.get("active_calls")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DriverFailure(f"the pre-check reported active_calls={value!r}")
    return value


async def _run_step(
    driver: Driver, execution: Execution, step: str, *, backup_id: str | None = None
) -> dict[str, Any]:
    """One step, recorded with its start, end, outcome and output."""
    record = execution.begin_step(step)
    try:
        result = await driver.perform_async(step, execution, backup_id=backup_id)
    except DriverFailure as failure:
        execution.end_step(record, outcome=FAILED, detail=failure.reason)
        raise
    except Exception as exc:  # a driver bug still ends the step in the record
        execution.end_step(record, outcome=FAILED, detail=f"driver error: {exc!r}")
        raise
    execution.end_step(record, outcome=SUCCEEDED, detail=result_text(result))
    return result


def run_task(driver: Driver, execution: Execution) -> None:
    """`run_task_async` in a loop of its own (a blocking driver's steps run in the default
    executor's threads)."""
    asyncio.run(run_task_async(driver, execution))


async def run_task_async(driver: Driver, execution: Execution) -> None:
    """Run the task's steps; returns when the tenant is updated. Raises `Busy`, `HandBack`
    or `DriverFailure` (its reason is the task's failure reason).

    A coroutine: the worker runs thousands of them on one event loop (`worker/tasks.py`);
    a driver that waits on I/O (`http`) awaits it, a blocking one (`command`, `simulated`)
    has its step run in a bounded thread pool (`Driver.perform_async`)."""
    spec = execution.spec
    execution.log(
        f"{driver.name} driver: {spec.task_type} {spec.tenant.name} (instance "
        f"{spec.tenant.instance_id}) from {spec.from_version} to {spec.target_version}"
    )
    steps = spec.steps()
    assert steps[:2] == [PRE_CHECK, BACKUP]
    try:
        checked = await _run_step(driver, execution, PRE_CHECK)
        calls = _active_calls(checked)
    except DriverFailure as failure:
        raise DriverFailure(f"{STEP_LABELS[PRE_CHECK]} failed: {failure.reason}") from failure
    if calls:
        if spec.wait_for_idle:
            execution.log(f"{busy_reason(calls)}: waiting until no calls are active")
            raise Busy(calls)
        execution.log(f"{busy_reason(calls)}: updating regardless (wait_for_idle is off)")
    if execution.stop.is_set():
        execution.log("worker stopping: handing the task back before the backup")
        raise HandBack
    try:
        backup = await _run_step(driver, execution, BACKUP)
        backup_id = backup.get("backup_id")
        if not isinstance(backup_id, str) or not backup_id:
            raise DriverFailure("the backup answered no backup_id")
    except DriverFailure as failure:
        raise DriverFailure(f"{STEP_LABELS[BACKUP]} failed: {failure.reason}") from failure
    for step in steps[2:]:
        if step == steps[2] and execution.stop.is_set():
            # Nothing has changed on the tenant yet (a backup changes nothing): give it back.
            execution.log(f"worker stopping: handing the task back before the {step}")
            raise HandBack
        try:
            await _run_step(driver, execution, step)
        except DriverFailure as failure:
            version = await _restore(driver, execution, backup_id)
            raise DriverFailure(f"{STEP_LABELS[step]} failed: restored to {version}") from failure


async def _restore(driver: Driver, execution: Execution, backup_id: str) -> str:
    """Restore `backup_id`; the version the tenant is back on. NeedsAttention when the
    restore fails: the tenant may be left anywhere."""
    try:
        restored = await _run_step(driver, execution, RESTORE, backup_id=backup_id)
    except DriverFailure as failure:
        execution.log(f"{NEEDS_ATTENTION} ({failure.reason})")
        raise NeedsAttention from failure
    version = restored.get("version")
    return version if isinstance(version, str) and version else execution.spec.from_version
