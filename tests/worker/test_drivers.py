"""R13: each driver's success and failure through the real worker loop.

The command driver runs a real script (fake_provisioner.py); the http driver talks to a
small provisioning API served by http.server on 127.0.0.1 for the test's duration.
"""

from __future__ import annotations

import json
import shlex
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path

import pytest

from ucfleet.updates.choices import AttemptOutcome, Status
from ucfleet.worker.drivers import driver_from_settings
from ucfleet.worker.drivers.simulated import SimulatedDriver

SCRIPT = Path(__file__).with_name("fake_provisioner.py")
STEPS = ["pre-check", "update", "health-check"]
ALL_STEPS = ["pre-check", "update", "redeploy", "health-check"]


def _tenant_version(task):
    return task.tenant.__class__.objects.get(pk=task.tenant_id).version


# --- simulated ---------------------------------------------------------------------------


def test_simulated_failures_are_a_function_of_seed_and_task():
    one, same = (SimulatedDriver(seconds=0, failure_share=0.5, seed=7) for _ in range(2))
    other = SimulatedDriver(seconds=0, failure_share=0.5, seed=8)
    fates = [one.failing_step(i, STEPS) for i in range(400)]
    assert fates == [same.failing_step(i, STEPS) for i in range(400)]
    assert fates != [other.failing_step(i, STEPS) for i in range(400)]
    share = sum(f is not None for f in fates) / len(fates)
    assert 0.4 < share < 0.6
    assert {f for f in fates if f} == set(STEPS)  # any step may be the failing one


@pytest.mark.parametrize("share, failing", [(0.0, 0), (1.0, 400)])
def test_simulated_failure_share_bounds(share, failing):
    driver = SimulatedDriver(seconds=0, failure_share=share, seed=1)
    assert sum(driver.failing_step(i, STEPS) is not None for i in range(400)) == failing


def test_simulated_driver_fails_exactly_the_tasks_its_seed_names(
    burst, make_tasks, ucfleet_settings
):
    ucfleet_settings(SIMULATED_FAILURE_SHARE=0.5, SIMULATED_SEED=11)
    tasks = make_tasks(12)
    seeded = SimulatedDriver(seconds=0, failure_share=0.5, seed=11)
    expected_failures = sorted(t.pk for t in tasks if seeded.failing_step(t.pk, STEPS))
    assert 0 < len(expected_failures) < 12  # both paths happen in this run

    summary = burst(concurrency=4)

    assert sorted(summary.failed) == expected_failures
    assert len(summary.executed) == 12 - len(expected_failures)
    for task in tasks:
        task.refresh_from_db()
        if task.pk in expected_failures:
            step = seeded.failing_step(task.pk, STEPS)
            assert task.failure_reason == f"{step} failed: simulated failure (seed 11)"


def test_an_unknown_driver_is_refused_at_start_up(ucfleet_settings):
    with pytest.raises(ValueError, match="unknown driver 'ssh'"):
        driver_from_settings(ucfleet_settings(DRIVER="ssh"))


# --- command -----------------------------------------------------------------------------


@pytest.fixture
def command_driver(ucfleet_settings, tmp_path, monkeypatch):
    record = tmp_path / "calls"
    record.mkdir()
    monkeypatch.setenv("FAKE_RECORD_DIR", str(record))
    monkeypatch.setenv("UCFLEET_SECRET_KEY", "must-not-reach-the-script")
    ucfleet_settings(
        DRIVER="command",
        COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))}",
        COMMAND_TIMEOUT_SECONDS=20.0,
    )

    def calls():
        found = [json.loads(p.read_text()) for p in record.iterdir()]
        return sorted(found, key=lambda c: (c["task_id"], ALL_STEPS.index(c["step"])))

    return calls


def test_command_driver_runs_the_script_for_every_step(burst, make_tasks, command_driver, versions):
    [plain, redeployed] = make_tasks(2)
    redeployed.redeploy = True
    redeployed.save()

    summary = burst()

    assert sorted(summary.executed) == sorted([plain.pk, redeployed.pk])
    calls = command_driver()
    assert [(c["task_id"], c["step"]) for c in calls] == [
        *((plain.pk, s) for s in STEPS),
        *((redeployed.pk, s) for s in ALL_STEPS),
    ]
    assert all(c["consistent"] for c in calls)  # stdin JSON and environment agree
    assert not any(c["sees_ucfleet_secrets"] for c in calls)
    plain.refresh_from_db()
    assert _tenant_version(plain) == versions["new"]
    log = plain.attempts.get().log
    assert "update: stdout:\n" in log
    assert f"update: {plain.tenant.name} -> 14.10" in log


def test_command_driver_failure_keeps_the_output_and_exit_code(
    burst, make_tasks, command_driver, monkeypatch, versions
):
    monkeypatch.setenv("FAKE_FAIL_STEP", "health-check")
    [task] = make_tasks(1)

    summary = burst()

    task.refresh_from_db()
    assert summary.failed == [task.pk]
    assert task.failure_reason == "health-check failed: exit code 3"
    attempt = task.attempts.get()
    assert attempt.outcome == AttemptOutcome.FAILED
    assert "health-check: stderr:" in attempt.log and "disk full on /var/lib/uc" in attempt.log
    assert [c["step"] for c in command_driver()] == STEPS
    # Health check failed after the update: the worker does not claim the target version.
    assert _tenant_version(task) == versions["current"]


def test_command_driver_times_out(burst, make_tasks, command_driver, monkeypatch, ucfleet_settings):
    ucfleet_settings(COMMAND_TIMEOUT_SECONDS=0.5)
    monkeypatch.setenv("FAKE_SLEEP_STEP", "update")
    monkeypatch.setenv("FAKE_SLEEP_SECONDS", "30")
    [task] = make_tasks(1)

    burst()

    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason == "update failed: timed out after 0.5 s"
    assert "update: stdout:" in task.attempts.get().log  # what it printed before is kept


def test_command_driver_reports_a_missing_executable(burst, make_tasks, ucfleet_settings):
    ucfleet_settings(DRIVER="command", COMMAND="/nonexistent/provision --fast")
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason.startswith("pre-check failed: cannot run /nonexistent/provision")


# --- http --------------------------------------------------------------------------------


class ProvisioningApi(ThreadingHTTPServer):
    """Jobs finish after `polls` GETs; `fail_step` fails, `error_step` answers 500,
    `stuck_step` never finishes."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ApiHandler)
        self.jobs: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.auth: set[str | None] = set()
        self.ids = count(1)
        self.polls = 2
        self.fail_step = self.error_step = self.stuck_step = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/jobs"


class _ApiHandler(BaseHTTPRequestHandler):
    server: ProvisioningApi

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        api = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with api.lock:
            api.requests.append(("POST", self.path, body))
            api.auth.add(self.headers.get("Authorization"))
            if body["step"] == api.error_step:
                self._answer(500, {"detail": "provisioning backend down"})
                return
            job_id = f"job-{next(api.ids)}"
            api.jobs[job_id] = {"step": body["step"], "polls": api.polls}
        # Every other job names itself in Location, the rest only by id: both are supported.
        headers = {"Location": f"/jobs/{job_id}"} if int(job_id[4:]) % 2 else {}
        self._answer(202, {"id": job_id, "status": "running"}, headers)

    def do_GET(self) -> None:
        api = self.server
        job_id = self.path.rsplit("/", 1)[-1]
        with api.lock:
            api.requests.append(("GET", self.path, None))
            job = api.jobs.get(job_id)
            if job is None:
                self._answer(404, {"detail": "no such job"})
                return
            job["polls"] -= 1
            done = job["polls"] <= 0 and job["step"] != api.stuck_step
        if not done:
            self._answer(200, {"id": job_id, "status": "running"})
        elif job["step"] == api.fail_step:
            self._answer(200, {"id": job_id, "status": "failed", "error": "tenant unreachable"})
        else:
            self._answer(200, {"id": job_id, "status": "succeeded", "output": f"{job['step']} ok"})


@pytest.fixture
def api(ucfleet_settings):
    server = ProvisioningApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ucfleet_settings(
        DRIVER="http",
        HTTP_URL=server.url,
        HTTP_POLL_SECONDS=0.01,
        HTTP_TIMEOUT_SECONDS=10.0,
        HTTP_TOKEN="s3cret",
    )
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_driver_posts_each_step_and_polls_until_done(burst, make_tasks, api, versions):
    [task] = make_tasks(1, redeploy=True)

    summary = burst()

    task.refresh_from_db()
    assert summary.executed == [task.pk]
    posts = [body for method, _, body in api.requests if method == "POST"]
    assert [p["step"] for p in posts] == ALL_STEPS
    assert {p["task"]["task_id"] for p in posts} == {task.pk}
    assert posts[0]["task"]["tenant"]["instance_id"] == task.tenant.instance_id
    assert sum(method == "GET" for method, _, _ in api.requests) == 4 * api.polls
    assert api.auth == {"Bearer s3cret"}
    assert _tenant_version(task) == versions["new"]
    log = task.attempts.get().log
    assert "update: job job-2 accepted (running)" in log and "update: output:\n" in log


def test_http_driver_reports_a_failed_job(burst, make_tasks, api, versions):
    api.fail_step = "update"
    [task] = make_tasks(1)

    summary = burst()

    task.refresh_from_db()
    assert summary.failed == [task.pk]
    assert task.failure_reason == "update failed: tenant unreachable"
    assert [b["step"] for m, _, b in api.requests if m == "POST"] == ["pre-check", "update"]
    assert _tenant_version(task) == versions["current"]


def test_http_driver_reports_an_http_error(burst, make_tasks, api):
    api.error_step = "pre-check"
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason.startswith(f"pre-check failed: POST {api.url}: HTTP 500")
    assert "provisioning backend down" in task.failure_reason


def test_http_driver_times_out_on_a_job_that_never_ends(burst, make_tasks, api, ucfleet_settings):
    api.stuck_step = "health-check"
    ucfleet_settings(HTTP_TIMEOUT_SECONDS=0.5)
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.failure_reason == "health-check failed: timed out after 0.5 s"


def test_http_driver_reports_an_unreachable_api(burst, make_tasks, ucfleet_settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/jobs"
    ucfleet_settings(DRIVER="http", HTTP_URL=url, HTTP_TIMEOUT_SECONDS=5.0)
    [task] = make_tasks(1)
    burst()
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.failure_reason.startswith(f"pre-check failed: POST {url}:")
    assert "refused" in task.failure_reason.lower()
