"""Performs a step by running an executable (R27): `EXECUTABLE STEP`, JSON on stdin/stdout.

The contract is docs/drivers.md: the step's JSON (as the http driver sends it) on stdin, the
task's facts also as environment variables; the executable prints one JSON object (the
step's result, or `{"error": ...}`) and exits 0 on success, non-zero on failure. stderr is
kept in the step's output. Each step has its own timeout; on expiry the step's whole process
group is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
from typing import Any

from ucfleet.worker.drivers.base import Driver, DriverFailure, Execution, TaskSpec, keep_tail


def task_environment(spec: TaskSpec, step: str) -> dict[str, str]:
    # ucfleet's own configuration (database URL, secret key, SMTP password) is not passed on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCFLEET_")}
    tenant = spec.tenant
    env.update(
        {
            "UCFLEET_STEP": step,
            "UCFLEET_TASK_ID": str(spec.task_id),
            "UCFLEET_ATTEMPT_ID": str(spec.attempt_id),
            "UCFLEET_TASK_TYPE": spec.task_type,
            "UCFLEET_FROM_VERSION": spec.from_version,
            "UCFLEET_TARGET_VERSION": spec.target_version,
            "UCFLEET_REDEPLOY": "1" if spec.redeploy else "0",
            "UCFLEET_FORCED": "1" if spec.forced else "0",
            "UCFLEET_TENANT_ID": str(tenant.id),
            "UCFLEET_TENANT_NAME": tenant.name,
            "UCFLEET_TENANT_DOMAIN": tenant.domain,
            "UCFLEET_INSTANCE_ID": tenant.instance_id,
            "UCFLEET_TENANT_LANGUAGE": tenant.language,
            "UCFLEET_PARTNER": tenant.partner,
            "UCFLEET_SCALE_UNIT": tenant.scale_unit,
        }
    )
    return env


class CommandDriver(Driver):
    name = "command"

    def __init__(
        self,
        *,
        command: str,
        step_timeouts: dict[str, float],
        timeout_seconds: float | None = None,
    ) -> None:
        super().__init__(timeout_seconds=timeout_seconds, step_timeouts=step_timeouts)
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("the command driver needs UCFLEET_DRIVER_COMMAND")

    def perform(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        spec = execution.spec
        payload = json.dumps(spec.step_body(step, backup_id=backup_id))
        try:
            process = subprocess.Popen(
                [*self.argv, step],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=task_environment(spec, step),
                start_new_session=True,  # its own process group, killed as a whole on timeout
            )
        except OSError as exc:
            raise DriverFailure(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from exc
        try:
            out, err = process.communicate(payload, timeout=self.timeout_for(step))
        except subprocess.TimeoutExpired:
            self._kill(process)
            try:
                out, err = process.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # a grandchild left the group and holds a pipe
                out, err = "", ""
            self._keep_output(execution, step, out, err)
            raise DriverFailure(f"timed out after {self.timeout_for(step):g} s") from None
        self._keep_output(execution, step, out, err)
        answer = _json_object(out)
        if process.returncode != 0:
            error = answer.get("error") if answer else None
            raise DriverFailure(str(error) if error else f"exit code {process.returncode}")
        if answer is None:
            raise DriverFailure("the command printed no JSON object")
        return answer

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    @staticmethod
    def _keep_output(execution: Execution, step: str, out: str, err: str) -> None:
        if out.strip():
            execution.log(f"{step}: stdout:\n{keep_tail(out.rstrip())}")
        if err.strip():
            execution.log(f"{step}: stderr:\n{keep_tail(err.rstrip())}")


def _json_object(out: str) -> dict[str, Any] | None:
    """The JSON object the command printed (its last non-empty line, or all of stdout)."""
    text = out.strip()
    if not text:
        return None
    for candidate in (text, text.splitlines()[-1]):
        try:
            answer = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(answer, dict):
            return answer
    return None
