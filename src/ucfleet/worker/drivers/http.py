"""Calls a provisioning API (R13): one job per step, then polls the job until it ends.

The protocol (docs/worker.md): `POST <url>` with `{"step", "task"}` answers 2xx with
`{"id", "status"}` (and optionally a `Location` header for the job); the driver then
`GET`s the job every poll interval until `status` is `succeeded` or `failed`. `output` and
`error` of the answer go to the attempt log. The timeout covers the whole task.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ucfleet.worker.drivers.base import Driver, DriverFailure, Execution, keep_tail

FINAL = {"succeeded", "failed"}
REQUEST_TIMEOUT = 30.0


class HttpDriver(Driver):
    name = "http"

    def __init__(
        self, *, url: str, timeout_seconds: float, poll_seconds: float, token: str = ""
    ) -> None:
        super().__init__(timeout_seconds=timeout_seconds)
        if not url:
            raise ValueError("the http driver needs UCFLEET_DRIVER_HTTP_URL")
        self.url = url
        self.poll_seconds = poll_seconds
        self.token = token

    def run_step(self, step: str, execution: Execution, *, deadline: float | None) -> None:
        body = {"step": step, "task": execution.spec.as_dict()}
        job, location = self._call("POST", self.url, body, deadline=deadline)
        job_url = self._job_url(job, location)
        execution.log(f"{step}: job {job.get('id', '?')} accepted ({job.get('status', '?')})")
        while job.get("status") not in FINAL:
            time.sleep(min(self.poll_seconds, self.remaining(deadline) or self.poll_seconds))
            job, _ = self._call("GET", job_url, None, deadline=deadline)
        for key in ("output", "error"):
            if job.get(key):
                execution.log(f"{step}: {key}:\n{keep_tail(str(job[key]))}")
        if job["status"] == "failed":
            raise DriverFailure(str(job.get("error") or "the provisioning API reported failure"))

    def _job_url(self, job: dict[str, Any], location: str | None) -> str:
        if location:
            return urllib.parse.urljoin(self.url, location)
        if "id" not in job:
            raise DriverFailure("the provisioning API answered without a job id")
        return self.url.rstrip("/") + "/" + urllib.parse.quote(str(job["id"]))

    def _call(
        self, method: str, url: str, body: dict[str, Any] | None, *, deadline: float | None
    ) -> tuple[dict[str, Any], str | None]:
        left = self.remaining(deadline)
        timeout = REQUEST_TIMEOUT if left is None else min(REQUEST_TIMEOUT, left)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                location = response.headers.get("Location")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise DriverFailure(f"{method} {url}: HTTP {exc.code} {detail}".strip()) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if deadline is not None and time.monotonic() >= deadline:
                raise DriverFailure(f"timed out after {self.timeout_seconds:g} s") from None
            raise DriverFailure(f"{method} {url}: {reason}") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise DriverFailure(f"{method} {url}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise DriverFailure(f"{method} {url}: the answer is not a JSON object")
        return answer, location
