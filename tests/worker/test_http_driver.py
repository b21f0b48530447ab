"""The http driver's side of docs/drivers.md against a small provisioning API served by
http.server on 127.0.0.1: start and poll, the bearer token, retries of 5xx and transport
errors, 4xx at once, per-step timeouts. (The whole contract end to end, with the UC
provisioning simulator as its own process: test_simulator_end_to_end.py.)"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import pytest

from ucfleet.updates.choices import Status
from ucfleet.updates.models import TaskStep

STEPS = ["pre_check", "backup", "update", "health_check"]
RESULTS = {
    "pre_check": {
        "reachable": True,
        "version": "14.9",
        "version_supported": True,
        "active_calls": 0,
    },
    "backup": {"backup_id": "bk-1"},
    "update": {"version": "14.10"},
    "redeploy": {"version": "14.10"},
    "health_check": {"service_up": True, "sip_registered": True, "test_call": True},
    "restore": {"version": "14.9"},
}


class ProvisioningApi(ThreadingHTTPServer):
    """Operations end after `polls` GETs. Knobs: `fail_step` (the operation fails),
    `server_errors` (that many 503s before a start is accepted), `reject_step` (400),
    `stuck_step` (never ends)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.operations: dict[str, dict] = {}
        self.starts: dict[tuple, str] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.polled: list[tuple[str, float]] = []  # (path, when) of every GET
        self.auth: set[str | None] = set()
        self.ids = count(1)
        self.polls = 2
        self.server_errors = 0
        self.fail_step = self.reject_step = self.stuck_step = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    server: ProvisioningApi

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        api = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        step = self.path.split("?", 1)[0].rsplit("/", 1)[-1]  # it ignores any query
        with api.lock:
            api.requests.append(("POST", self.path, body))
            api.auth.add(self.headers.get("Authorization"))
            if api.server_errors > 0:
                api.server_errors -= 1
                self._answer(503, {"error": "provisioning backend restarting"})
                return
            if step == api.reject_step:
                self._answer(400, {"error": "tenant.instance_id: unknown tenant"})
                return
            key = (body["task_id"], body["attempt_id"], step)
            if key not in api.starts:  # idempotent: the same start is the same operation
                api.starts[key] = f"op-{next(api.ids)}"
                api.operations[api.starts[key]] = {"step": step, "polls": api.polls}
        self._answer(202, {"operation_id": api.starts[key], "status": "running"})

    def do_GET(self) -> None:
        api = self.server
        operation_id = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
        with api.lock:
            api.requests.append(("GET", self.path, None))
            api.polled.append((self.path, time.monotonic()))
            operation = api.operations.get(operation_id)
            if operation is None:
                self._answer(404, {"error": "no such operation"})
                return
            operation["polls"] -= 1
            step = operation["step"]
            running = operation["polls"] > 0 or step == api.stuck_step
        answer = {"operation_id": operation_id, "step": step, "result": None, "error": None}
        if running:
            self._answer(200, {**answer, "status": "running"})
        elif step == api.fail_step:
            self._answer(200, {**answer, "status": "failed", "error": "tenant unreachable"})
        else:
            self._answer(200, {**answer, "status": "succeeded", "result": RESULTS[step]})


@pytest.fixture
def api(ucfleet_settings):
    server = ProvisioningApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ucfleet_settings(
        DRIVER="http", HTTP_URL=server.url, HTTP_POLL_SECONDS=0.01, HTTP_TOKEN="s3cret"
    )
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _posts(api) -> list[str]:
    return [path.rsplit("/", 1)[-1] for method, path, _ in api.requests if method == "POST"]


def test_with_wait_an_api_that_answers_at_once_is_polled_every_interval(
    burst, make_tasks, api, ucfleet_settings
):
    # This API ignores `?wait=`: its answers come at once, still running, and the driver
    # falls back to polling every interval instead of asking again without pause.
    ucfleet_settings(HTTP_WAIT_SECONDS=5.0)
    [task] = make_tasks(1)

    summary = burst()

    assert summary.executed == [task.pk]
    paths = [path for _, path, _ in api.requests]
    assert all(path.endswith("?wait=5") for path in paths), paths
    assert [p.split("?")[0].rsplit("/", 1)[-1] for p in paths if "/steps/" in p] == STEPS
    assert sum(method == "GET" for method, _, _ in api.requests) == len(STEPS) * api.polls
    # Each operation is asked about again no sooner than the poll interval (0.01 s).
    again = [
        later - at
        for (path, at), (next_path, later) in itertools.pairwise(api.polled)
        if path == next_path
    ]
    assert len(again) == len(STEPS) * (api.polls - 1)
    assert min(again) >= 0.01, again


def test_each_step_is_started_and_polled_to_its_end(burst, make_tasks, api, versions):
    [task] = make_tasks(1)

    summary = burst()

    assert summary.executed == [task.pk]
    assert _posts(api) == STEPS
    first = api.requests[0]
    assert first[1] == f"/tenants/{task.tenant.instance_id}/steps/pre_check"
    assert first[2]["task_id"] == task.pk and first[2]["backup_id"] is None
    assert first[2]["tenant"]["instance_id"] == task.tenant.instance_id
    assert sum(method == "GET" for method, _, _ in api.requests) == len(STEPS) * api.polls
    assert api.auth == {"Bearer s3cret"}
    task.tenant.refresh_from_db()
    assert task.tenant.version == versions["new"]
    update = TaskStep.objects.get(task=task, step="update")
    assert update.outcome == "succeeded" and "operation op-3" in update.output


def test_a_failed_operation_after_the_backup_is_restored_with_its_backup_id(
    burst, make_tasks, api, versions
):
    api.fail_step = "update"
    [task] = make_tasks(1)

    burst()

    task.refresh_from_db()
    assert task.failure_reason == "update failed: restored to 14.9"
    assert _posts(api) == ["pre_check", "backup", "update", "restore"]
    assert api.requests[-1][2] is None  # the restore's poll; its start carried the backup
    restore = next(body for m, path, body in api.requests if path.endswith("/restore"))
    assert restore["backup_id"] == "bk-1"
    failed = TaskStep.objects.get(task=task, step="update")
    assert failed.outcome == "failed" and "tenant unreachable" in failed.output


def test_server_errors_are_retried_with_back_off(burst, make_tasks, api):
    api.server_errors = 2  # the first two starts answer 503: the third is accepted
    [task] = make_tasks(1)

    summary = burst()

    assert summary.executed == [task.pk]
    assert _posts(api) == ["pre_check"] * 3 + STEPS[1:]


def test_retries_give_up_with_the_last_error(burst, make_tasks, api, ucfleet_settings):
    ucfleet_settings(HTTP_RETRIES=1)
    api.server_errors = 5
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert _posts(api) == ["pre_check"] * 2
    assert task.failure_reason.startswith("pre-check failed: POST ")
    assert task.failure_reason.endswith("HTTP 503 provisioning backend restarting")


def test_a_4xx_fails_the_step_at_once_with_the_apis_error(burst, make_tasks, api):
    api.reject_step = "backup"
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert _posts(api) == ["pre_check", "backup"]  # no retry, no restore
    assert task.failure_reason.startswith("backup failed: POST ")
    assert task.failure_reason.endswith("HTTP 400 tenant.instance_id: unknown tenant")


@pytest.mark.parametrize("wait", [0.0, 5.0])
def test_each_step_has_its_own_timeout(burst, make_tasks, api, ucfleet_settings, wait):
    timeouts = {**ucfleet_settings()["DRIVER_STEP_TIMEOUTS"], "health_check": 0.5}
    ucfleet_settings(DRIVER_STEP_TIMEOUTS=timeouts, HTTP_WAIT_SECONDS=wait)
    api.stuck_step = "health_check"
    [task] = make_tasks(1)

    burst()

    task.refresh_from_db()
    assert task.failure_reason == "health check failed: restored to 14.9"
    step = TaskStep.objects.get(task=task, step="health_check")
    assert "timed out after 0.5 s" in step.output
    assert (step.finished - step.started).total_seconds() >= 0.5


def test_an_unreachable_api_fails_the_pre_check(burst, make_tasks, ucfleet_settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    ucfleet_settings(DRIVER="http", HTTP_URL=url, HTTP_RETRIES=1)
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason.startswith(f"pre-check failed: POST {url}tenants/")
    assert "refused" in task.failure_reason.lower()
