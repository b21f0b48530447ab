"""`UCFLEET_LOG_FORMAT=json`: a real portal (gunicorn) and a real worker process write one
JSON object per line; each request is one line with its id, user, path, status, duration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.ops.processes import Portal
from tests.worker.processes import child_env
from ucfleet.accounts.tokens import issue_token

pytestmark = pytest.mark.django_db(transaction=True)


def json_lines(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, f"{path.name} is empty"
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line in {path.name}: {line!r}")
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    return records


def test_portal_requests_are_logged_as_json_lines_with_request_ids(platform_admin, tmp_path):
    env = {**child_env(), "UCFLEET_LOG_FORMAT": "json", "UCFLEET_DATA_DIR": str(tmp_path)}
    portal = Portal(env=env, log_dir=tmp_path)
    token = issue_token(platform_admin).key
    try:
        health = requests.get(f"{portal.url}/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
        api = requests.get(
            f"{portal.url}/api/v1/partners/", headers={"Authorization": f"Token {token}"}
        )
        missing = requests.get(f"{portal.url}/no/such/page/", headers={"X-Request-ID": "x" * 200})
        login = requests.get(f"{portal.url}/login/")
    finally:
        assert portal.stop() == 0
    assert health.headers["X-Request-ID"] == "lb-7f3a.42"
    assert api.status_code == 200 and missing.status_code == 404 and login.status_code == 200
    generated = missing.headers["X-Request-ID"]
    assert generated != "x" * 200 and len(generated) == 32  # an ill-formed id is replaced

    records = json_lines(portal.err)
    requests_logged = {r["request_id"]: r for r in records if r["logger"] == "ucfleet.request"}
    assert len(requests_logged) == 4
    assert requests_logged["lb-7f3a.42"] | {"duration_ms": 0, "time": "", "pid": 0} == {
        "time": "",
        "pid": 0,
        "level": "INFO",
        "logger": "ucfleet.request",
        "message": requests_logged["lb-7f3a.42"]["message"],
        "request_id": "lb-7f3a.42",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "duration_ms": 0,
        "user": "",
    }
    assert requests_logged[api.headers["X-Request-ID"]]["user"] == platform_admin.username
    assert requests_logged[api.headers["X-Request-ID"]]["path"] == "/api/v1/partners/"
    assert requests_logged[generated]["status"] == 404
    assert all(r["duration_ms"] >= 0 for r in requests_logged.values())
    assert any(r["logger"] == "gunicorn.error" for r in records)  # gunicorn's lines too


def test_a_worker_process_logs_json_lines(db, tmp_path):
    env = {**child_env(), "UCFLEET_LOG_FORMAT": "json", "UCFLEET_LOG_LEVEL": "INFO"}
    err = tmp_path / "worker.err"
    command = [sys.executable, "-m", "ucfleet.cli", "worker", "--burst", "--name", "json-w"]
    with err.open("w") as stream:
        done = subprocess.run(command, env=env, stderr=stream, stdout=subprocess.PIPE, timeout=120)
    assert done.returncode == 0, err.read_text()
    records = json_lines(err)
    assert any(r["logger"].startswith("ucfleet.worker") for r in records), records
    assert all(isinstance(r["pid"], int) for r in records)


def test_a_bad_log_format_stops_the_start_with_a_clear_message(tmp_path):
    env = {**child_env(), "UCFLEET_LOG_FORMAT": "xml"}
    done = subprocess.run(
        [sys.executable, "-m", "ucfleet.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "UCFLEET_LOG_FORMAT must be plain or json, got 'xml'" in done.stderr


def test_an_error_logged_with_its_exception_carries_the_traceback_in_json(tmp_path):
    script = (
        "import django, logging; django.setup()\n"
        "try:\n    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    logging.getLogger('ucfleet.ops.check').exception('could not divide')\n"
    )
    env = {
        **child_env(),
        "UCFLEET_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "ucfleet.config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    err = tmp_path / "err"
    err.write_text(done.stderr)
    [record] = [r for r in json_lines(err) if r["logger"] == "ucfleet.ops.check"]
    assert record["level"] == "ERROR" and record["message"] == "could not divide"
    assert "ZeroDivisionError: division by zero" in record["traceback"]
    assert record["traceback"].startswith("Traceback (most recent call last):")
