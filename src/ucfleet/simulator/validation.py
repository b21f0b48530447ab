"""Reading the simulator's request bodies: every bad value is a `BadRequest` naming the field.

Nothing here touches the simulator's state, so a rejected request changes nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

STEPS = ("pre_check", "backup", "update", "redeploy", "health_check", "restore")
CHECKS = ("service_up", "sip_registered", "test_call")
MAX_TEXT = 200


class SimulatorError(Exception):
    """An answer other than success: `status` and the sentence for `{"error": …}`."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SimulatorError):
    status = 400


class Unauthorized(SimulatorError):
    status = 401


class NotFound(SimulatorError):
    status = 404


class Conflict(SimulatorError):
    status = 409


class TooLarge(SimulatorError):
    status = 413


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def reject_unknown(body: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown field(s) in {what}: {', '.join(unknown)}; known: {', '.join(sorted(allowed))}"
        )


def integer(value: Any, name: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer")
    if not minimum <= value <= maximum:
        raise BadRequest(f"{name} must be between {minimum} and {maximum}")
    return value


def number(value: Any, name: str, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a number")
    if not minimum <= value <= maximum:
        raise BadRequest(f"{name} must be between {minimum:g} and {maximum:g}")
    return float(value)


def text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{name} must be at most {MAX_TEXT} characters")
    return value


def step_name(value: Any, name: str = "step") -> str:
    if value not in STEPS:
        raise BadRequest(f"{name} must be one of {', '.join(STEPS)}")
    return str(value)


def instance_id(value: str) -> str:
    return text(value, "instance_id")


@dataclass(frozen=True)
class StepRequest:
    task_id: int
    attempt_id: int
    from_version: str
    target_version: str
    backup_id: str | None


STEP_FIELDS = {"task_id", "attempt_id", "from_version", "target_version", "backup_id", "tenant"}


def step_request(step: str, instance: str, body: dict[str, Any]) -> StepRequest:
    """The step request of docs/drivers.md; `tenant` may carry more fields than we read."""
    for field in ("task_id", "attempt_id", "from_version", "target_version"):
        if field not in body:
            raise BadRequest(f"{field} is required")
    tenant = body.get("tenant", {})
    if not isinstance(tenant, dict):
        raise BadRequest("tenant must be a JSON object")
    if "instance_id" in tenant and tenant["instance_id"] != instance:
        raise BadRequest("tenant.instance_id differs from the instance_id in the path")
    backup_id = body.get("backup_id")
    if step == "restore":
        if backup_id is None:
            raise BadRequest("backup_id is required for restore")
        backup_id = text(backup_id, "backup_id")
    elif backup_id is not None:
        text(backup_id, "backup_id")  # a well-formed value is accepted and not used
        backup_id = None
    return StepRequest(
        task_id=integer(body["task_id"], "task_id", minimum=0, maximum=2**63 - 1),
        attempt_id=integer(body["attempt_id"], "attempt_id", minimum=0, maximum=2**63 - 1),
        from_version=text(body["from_version"], "from_version"),
        target_version=text(body["target_version"], "target_version"),
        backup_id=backup_id,
    )


@dataclass(frozen=True)
class FaultsChange:
    step: str | None = None
    times: int = 1
    check: str = "test_call"
    busy_seconds: float | None = None
    calls: int = 1


def faults_change(body: dict[str, Any]) -> FaultsChange:
    reject_unknown(body, {"step", "times", "check", "busy_seconds", "calls"}, "faults")
    if "step" not in body and "busy_seconds" not in body:
        raise BadRequest('give "step" (with "times") or "busy_seconds" (with "calls")')
    step = step_name(body["step"]) if "step" in body else None
    if step is None and ("times" in body or "check" in body):
        raise BadRequest("times and check need a step")
    if "check" in body and step != "health_check":
        raise BadRequest("check is only for the health_check step")
    if "busy_seconds" not in body and "calls" in body:
        raise BadRequest("calls needs busy_seconds")
    check = body.get("check", "test_call")
    if check not in CHECKS:
        raise BadRequest(f"check must be one of {', '.join(CHECKS)}")
    busy = body.get("busy_seconds")
    return FaultsChange(
        step=step,
        times=integer(body.get("times", 1), "times", minimum=1, maximum=1_000_000),
        check=check,
        busy_seconds=None
        if busy is None
        else number(busy, "busy_seconds", minimum=0.001, maximum=86_400),
        calls=integer(body.get("calls", 1), "calls", minimum=1, maximum=1_000_000),
    )


SETTINGS_FIELDS = {
    "step_seconds",
    "per_step_seconds",
    "fail_percent",
    "busy_percent",
    "busy_seconds",
    "seed",
}


def settings_change(body: dict[str, Any]) -> dict[str, Any]:
    """The validated subset of settings the body changes (others stay as they are)."""
    reject_unknown(body, SETTINGS_FIELDS, "settings")
    change: dict[str, Any] = {}
    if "step_seconds" in body:
        change["step_seconds"] = number(
            body["step_seconds"], "step_seconds", minimum=0, maximum=3600
        )
    if "per_step_seconds" in body:
        change["per_step_seconds"] = _per_step(
            body["per_step_seconds"], "per_step_seconds", maximum=3600
        )
    if "fail_percent" in body:
        change["fail_percent"] = _per_step(body["fail_percent"], "fail_percent", maximum=100)
    if "busy_percent" in body:
        change["busy_percent"] = number(
            body["busy_percent"], "busy_percent", minimum=0, maximum=100
        )
    if "busy_seconds" in body:
        change["busy_seconds"] = number(
            body["busy_seconds"], "busy_seconds", minimum=0.001, maximum=86_400
        )
    if "seed" in body:
        seed = body["seed"]
        change["seed"] = None if seed is None else integer(seed, "seed", minimum=0, maximum=2**63)
    return change


def _per_step(value: Any, name: str, *, maximum: float) -> dict[str, float]:
    if not isinstance(value, dict):
        raise BadRequest(f"{name} must be an object of step names to numbers")
    return {
        step_name(step, f"a key of {name}"): number(
            amount, f"{name}.{step}", minimum=0, maximum=maximum
        )
        for step, amount in value.items()
    }


def query_integer(params: dict[str, list[str]], name: str) -> int | None:
    values = params.get(name)
    if not values:
        return None
    try:
        return integer(int(values[-1]), name, minimum=0, maximum=2**63 - 1)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


MAX_WAIT_SECONDS = 60.0


def query_wait(params: dict[str, list[str]]) -> float | None:
    """The `wait` of a step start or a poll (docs/drivers.md): seconds to hold the answer
    until the operation ends; None when not asked."""
    values = params.get("wait")
    if not values:
        return None
    message = f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}"
    try:
        seconds = float(values[-1])
    except ValueError:
        raise BadRequest(message) from None
    if not 0 <= seconds <= MAX_WAIT_SECONDS:  # also refuses nan and inf
        raise BadRequest(message)
    return seconds
