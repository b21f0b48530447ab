"""Performs a step through a provisioning API (R27): start an operation, poll it to its end.

The contract is docs/drivers.md: `POST {base}/tenants/{instance_id}/steps/{step}` answers an
`operation_id`; `GET {base}/operations/{operation_id}` every poll interval until its status is
`succeeded` (its `result` is the step's result) or `failed` (its `error` is the reason).
A transport error or a 5xx answer is retried with back-off (a repeated start is safe: the
API answers the same operation for the same task, attempt and step); a 4xx is a failure.
Each step has its own timeout. Steps are coroutines on the worker's event loop: waiting for
an operation costs no thread, and requests share pooled keep-alive connections
(`http_client.py`, at most `connections` at once).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
import urllib.parse
import weakref
from datetime import datetime
from typing import Any

from ucfleet.worker.drivers.base import Driver, DriverFailure, Execution, keep_tail, result_text
from ucfleet.worker.drivers.http_client import ConnectionPool, TransportError

FINAL = {"succeeded", "failed"}
REQUEST_TIMEOUT = 10.0
FIRST_BACKOFF = 0.5


class _Retryable(Exception):
    """A transport error or a 5xx: worth asking again."""


class HttpDriver(Driver):
    name = "http"

    def __init__(
        self,
        *,
        url: str,
        poll_seconds: float,
        step_timeouts: dict[str, float],
        token: str = "",
        retries: int = 5,
        connections: int = 256,
        wait_seconds: float = 0.0,
        timeout_seconds: float | None = None,
    ) -> None:
        super().__init__(timeout_seconds=timeout_seconds, step_timeouts=step_timeouts)
        if not url:
            raise ValueError("the http driver needs UCFLEET_DRIVER_HTTP_URL")
        self.base = url.rstrip("/")
        self.poll_seconds = poll_seconds
        self.token = token
        self.retries = max(0, retries)
        self.connections = max(1, connections)
        self.wait_seconds = max(0.0, wait_seconds)
        self._durations = StepDurations()
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConnectionPool] = (
            weakref.WeakKeyDictionary()
        )

    def perform(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        """One step outside the worker's loop: on an event loop (and connections) of its own."""

        async def once() -> dict[str, Any]:
            try:
                return await self.perform_async(step, execution, backup_id=backup_id)
            finally:
                await self.aclose()

        return asyncio.run(once())

    async def perform_async(
        self, step: str, execution: Execution, *, backup_id: str | None = None
    ) -> dict[str, Any]:
        spec = execution.spec
        deadline = self.deadline_for(step)
        instance = urllib.parse.quote(spec.tenant.instance_id, safe="")
        start_url = f"{self.base}/tenants/{instance}/steps/{step}"
        body = spec.step_body(step, backup_id=backup_id)
        hold = self._hold(step, deadline)
        if hold:
            answer = await self._call(
                step, "POST", f"{start_url}?wait={hold:g}", body, deadline, hold
            )
        else:
            answer = await self._call(step, "POST", start_url, body, deadline)
        operation_id = answer.get("operation_id")
        if not isinstance(operation_id, str) or not operation_id:
            raise DriverFailure("the provisioning API answered without an operation_id")
        status = answer.get("status", "?")
        execution.log(f"{step}: operation {operation_id} ({status})")
        operation_url = f"{self.base}/operations/{urllib.parse.quote(operation_id, safe='')}"
        began = time.monotonic()
        if status not in FINAL or not hold:
            answer = await (
                self._wait(step, operation_url, deadline)
                if hold
                else self._poll(step, operation_url, deadline)
            )
        self._durations.add(step, answer, time.monotonic() - began)
        result = answer.get("result")
        result = result if isinstance(result, dict) else {}
        if answer["status"] == "failed":
            if result:
                execution.log(f"{step}: result {result_text(result)}")
            raise DriverFailure(str(answer.get("error") or "the provisioning API reported failure"))
        return result

    async def _poll(self, step: str, url: str, deadline: float | None) -> dict[str, Any]:
        """The operation's final answer, polled: the first poll waits for the step's typical
        duration (when operations of this step have been seen to end), the next ones every
        poll interval."""
        wait = max(self.poll_seconds, self._durations.typical(step))
        while True:
            left = self.remaining(step, deadline)
            await asyncio.sleep(wait if left is None else min(wait, left))
            answer = await self._call(step, "GET", url, None, deadline)
            if answer.get("status") in FINAL:
                return answer
            wait = self.poll_seconds

    async def _wait(self, step: str, url: str, deadline: float | None) -> dict[str, Any]:
        """The operation's final answer, asked with `?wait=`: the API answers when it ends
        (or when the wait has passed). An API that answers a running operation before the
        wait has passed does not hold requests: it is then polled every interval."""
        while True:
            hold = self._hold(step, deadline)
            asked = time.monotonic()
            answer = await self._call(step, "GET", f"{url}?wait={hold:g}", None, deadline, hold)
            if answer.get("status") in FINAL:
                return answer
            if not hold or time.monotonic() - asked < 0.9 * hold:
                left = self.remaining(step, deadline)
                pause = self.poll_seconds if left is None else min(self.poll_seconds, left)
                await asyncio.sleep(max(pause, 0.0))

    def _hold(self, step: str, deadline: float | None) -> float:
        """How long the next request may ask the API to hold its answer (0: do not ask)."""
        left = self.remaining(step, deadline)
        hold = self.wait_seconds if left is None else min(self.wait_seconds, left)
        return round(max(hold, 0.0), 3)

    async def aclose(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.aclose()

    def _pool(self) -> ConnectionPool:
        """The connections of the running event loop (a pool belongs to one loop)."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = ConnectionPool(limit=self.connections)
        return pool

    async def _call(
        self,
        step: str,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        deadline: float | None,
        hold: float = 0.0,
    ) -> dict[str, Any]:
        """One request, retried on transport errors and 5xx within the step's time. `hold`:
        the seconds the API was asked to hold the answer (added to the request timeout)."""
        backoff = FIRST_BACKOFF
        for attempt in range(self.retries + 1):
            try:
                return await self._request(step, method, url, body, deadline, hold)
            except _Retryable as exc:
                left = self.remaining(step, deadline)
                if attempt == self.retries or (left is not None and left <= backoff):
                    raise DriverFailure(f"{method} {url}: {exc}") from None
                await asyncio.sleep(backoff)
                backoff *= 2
        raise AssertionError("unreachable")

    async def _request(
        self,
        step: str,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        deadline: float | None,
        hold: float,
    ) -> dict[str, Any]:
        left = self.remaining(step, deadline)
        timeout = REQUEST_TIMEOUT + hold if left is None else min(REQUEST_TIMEOUT + hold, left)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = await self._pool().request(
                method, url, headers=headers, body=data, timeout=timeout
            )
        except (TransportError, TimeoutError) as exc:
            if deadline is not None and time.monotonic() >= deadline:
                raise DriverFailure(f"timed out after {self.timeout_for(step):g} s") from None
            raise _Retryable(str(exc) or "no answer in time") from None
        if response.status >= 400:
            detail = _error_text(response.body)
            if response.status >= 500:
                raise _Retryable(f"HTTP {response.status} {detail}".strip())
            raise DriverFailure(f"{method} {url}: HTTP {response.status} {detail}".strip())
        try:
            answer = json.loads(response.body or b"{}")
        except ValueError:
            raise DriverFailure(f"{method} {url}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise DriverFailure(f"{method} {url}: the answer is not a JSON object")
        return answer


class StepDurations:
    """How long the recent operations of each step took, as the provisioning API reported
    them (`started`, `finished`). A driver with thousands of tasks in flight need not poll
    an operation that is most likely still running: its first poll waits for the shortest
    of the step's last `WINDOW` durations (minus a margin), then it polls every interval.
    Steps of one kind take similar times on a platform; when they do not, this only saves
    polls that would have found the operation running."""

    WINDOW = 32
    MARGIN = 0.02  # seconds: polled this much after the expected end

    def __init__(self) -> None:
        self._seen: dict[str, collections.deque[float]] = {}

    def typical(self, step: str) -> float:
        seen = self._seen.get(step)
        return min(seen) + self.MARGIN if seen else 0.0

    def add(self, step: str, answer: dict[str, Any], observed: float) -> None:
        duration = _reported_duration(answer)
        seen = self._seen.setdefault(step, collections.deque(maxlen=self.WINDOW))
        seen.append(min(observed, duration) if duration is not None else observed)


def _reported_duration(answer: dict[str, Any]) -> float | None:
    try:
        started = datetime.fromisoformat(str(answer["started"]).replace("Z", "+00:00"))
        finished = datetime.fromisoformat(str(answer["finished"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None
    seconds = (finished - started).total_seconds()
    return seconds if seconds >= 0 else None


def _error_text(raw: bytes) -> str:
    """The `error` of a JSON error answer, else the start of the body."""
    text = raw.decode(errors="replace")
    try:
        answer = json.loads(text)
    except ValueError:
        return keep_tail(text, 500)
    if isinstance(answer, dict) and answer.get("error"):
        return str(answer["error"])[:500]
    return text[:500]
