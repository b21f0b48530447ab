"""The simulator's HTTP interface as a WSGI application: routing, the token, JSON in and out.

Every answer is JSON; every error is `{"error": …}` with a 4xx status (a 500 only for a bug
of ours, logged with its traceback).
"""

from __future__ import annotations

import hmac
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from ucfleet.simulator import validation as v
from ucfleet.simulator.state import Simulator

log = logging.getLogger("ucfleet.simulator")

MAX_BODY = 64 * 1024
DRAIN_LIMIT = 1024 * 1024
REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    500: "Internal Server Error",
}

Handler = Callable[[dict[str, Any], list[str]], tuple[int, Any]]
StartResponse = Callable[..., Any]


class MethodNotAllowed(v.SimulatorError):
    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(f"method not allowed; use {', '.join(allowed)}")
        self.allowed = allowed


class SimulatorApp:
    def __init__(self, simulator: Simulator, *, token: str = "") -> None:
        self.simulator = simulator
        self.token = token
        # (path pattern, {method: handler}); "*" matches one path segment.
        self.routes: list[tuple[tuple[str, ...], dict[str, Handler]]] = [
            (("healthz",), {"GET": self.healthz}),
            (("tenants", "*"), {"GET": self.get_tenant}),
            (("tenants", "*", "faults"), {"POST": self.add_faults, "DELETE": self.clear_faults}),
            (("tenants", "*", "log"), {"GET": self.tenant_log}),
            (("tenants", "*", "steps", "*"), {"POST": self.start_step}),
            (("operations", "*"), {"GET": self.get_operation}),
            (("log",), {"GET": self.get_log}),
            (("settings",), {"GET": self.get_settings, "PUT": self.put_settings}),
        ]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return self._respond(start_response, lambda: self._dispatch(environ))

    def _respond(
        self, start_response: StartResponse, answer: Callable[[], tuple[int, Any]]
    ) -> Iterable[bytes]:
        """`answer()`'s status and body as JSON; its errors as `{"error": …}`."""
        headers: list[tuple[str, str]] = []
        try:
            status, body = answer()
        except MethodNotAllowed as exc:
            status, body = exc.status, {"error": exc.message}
            headers.append(("Allow", ", ".join(exc.allowed)))
        except v.SimulatorError as exc:
            status, body = exc.status, {"error": exc.message}
            if exc.status == 401:
                headers.append(("WWW-Authenticate", "Bearer"))
        except Exception:
            log.exception("simulator error")
            status, body = 500, {"error": "internal error of the simulator"}
        if status == 202 and isinstance(body, dict) and "operation_id" in body:
            headers.append(("Location", f"/operations/{body['operation_id']}"))
        payload = json.dumps(body).encode()
        headers += [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(payload))),
        ]
        start_response(f"{status} {REASONS.get(status, '')}", headers)
        return [payload]

    def _dispatch(self, environ: dict[str, Any]) -> tuple[int, Any]:
        segments = path_segments(environ)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if segments != ["healthz"]:
            self._authenticate(environ)
        for pattern, methods in self.routes:
            if len(pattern) != len(segments) or any(
                p not in ("*", s) for p, s in zip(pattern, segments, strict=True)
            ):
                continue
            handler = methods.get(method)
            if handler is None:
                raise MethodNotAllowed(sorted(methods))
            return handler(environ, [s for p, s in zip(pattern, segments, strict=True) if p == "*"])
        raise v.NotFound(f"no such path: /{'/'.join(segments)}")

    def _authenticate(self, environ: dict[str, Any]) -> None:
        if not self.token:
            return
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            raise v.Unauthorized("a valid 'Authorization: Bearer <token>' header is required")

    # --- handlers ------------------------------------------------------------------------

    def healthz(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        return 200, {"status": "ok", "operations_running": self.simulator.running()}

    def get_tenant(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        return 200, self.simulator.tenant(v.instance_id(args[0]))

    def add_faults(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        instance = v.instance_id(args[0])
        change = v.faults_change(read_body(environ))
        return 200, self.simulator.add_faults(instance, change)

    def clear_faults(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        return 200, self.simulator.clear_faults(v.instance_id(args[0]))

    def tenant_log(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        return 200, self.simulator.tenant_log(v.instance_id(args[0]))

    def start_step(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        instance, step = v.instance_id(args[0]), args[1]
        if step not in v.STEPS:
            raise v.NotFound(f"unknown step {step!r}; steps: {', '.join(v.STEPS)}")
        wait = v.query_wait(query_params(environ))
        request = v.step_request(step, instance, read_body(environ))
        operation = self.simulator.start_step(instance, step, request)
        if wait is None:
            return 202, {"operation_id": operation.operation_id, "status": operation.status}
        answer = self.simulator.operation(operation.operation_id)
        self._hold(environ, 202, answer, wait)
        return 202, answer

    def get_operation(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        wait = v.query_wait(query_params(environ))
        answer = self.simulator.operation(args[0])
        if wait is not None:
            self._hold(environ, 200, answer, wait)
        return 200, answer

    def _hold(
        self, environ: dict[str, Any], status: int, answer: dict[str, Any], wait: float
    ) -> None:
        """`?wait=S`: the answer waits until the operation ends or S seconds pass. The server
        (http11.py) holds the request and then answers it with the operation as it is at
        that moment; the answer given now is dropped. A server that cannot hold sends it."""
        hold = environ.get("ucfleet.hold")
        if wait > 0 and hold is not None and answer["status"] == "running":
            operation_id = answer["operation_id"]

            def later(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
                return self._respond(
                    start_response, lambda: (status, self.simulator.operation(operation_id))
                )

            hold(wait, lambda wake: self.simulator.when_ended(operation_id, wake), later)

    def get_log(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        params = query_params(environ)
        reject = set(params) - {"task_id", "instance_id", "step"}
        if reject:
            raise v.BadRequest(f"unknown filter(s): {', '.join(sorted(reject))}")
        step = params.get("step", [None])[-1]
        instance = params.get("instance_id", [None])[-1]
        return 200, self.simulator.log(
            task_id=v.query_integer(params, "task_id"),
            instance_id=None if instance is None else v.instance_id(instance),
            step=None if step is None else v.step_name(step),
        )

    def get_settings(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        return 200, self.simulator.settings()

    def put_settings(self, environ: dict[str, Any], args: list[str]) -> tuple[int, Any]:
        return 200, self.simulator.change_settings(v.settings_change(read_body(environ)))


def path_segments(environ: dict[str, Any]) -> list[str]:
    """The path split on '/' *before* percent-decoding, so an instance id may hold a '/'."""
    raw = environ.get("ucfleet.raw_path") or environ.get("RAW_URI")
    if raw is None:  # a server that only gives the decoded path (WSGI's latin-1 convention)
        raw = urllib.parse.quote(environ.get("PATH_INFO", "").encode("latin-1"))
    raw = raw.split("?", 1)[0]
    segments = [urllib.parse.unquote(part) for part in raw.split("/")]
    while segments and segments[0] == "":
        segments.pop(0)
    if segments and segments[-1] == "":
        segments.pop()  # a trailing slash names the same resource
    return segments


def query_params(environ: dict[str, Any]) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))


def read_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise v.BadRequest("Content-Length must be a number") from None
    if length > MAX_BODY:
        if length <= DRAIN_LIMIT:  # read it, so the client sees the answer, not a reset
            stream = environ["wsgi.input"]
            while length > 0:
                chunk = stream.read(min(length, 65536))
                if not chunk:
                    break
                length -= len(chunk)
        raise v.TooLarge(f"the body must be at most {MAX_BODY} bytes")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    return v.json_object(raw)
