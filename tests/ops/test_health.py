"""`/healthz` and `/readyz` over HTTP: readiness follows the database, the migrations and
the workers' heartbeats (a real `ucfleet worker` process registers the way workers do)."""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from tests.worker.processes import child_env, start_worker, wait_until
from ucfleet.worker.models import Worker, WorkerStatus
from ucfleet.worker.registry import register_worker


def ready() -> tuple[int, dict]:
    response = Client().get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_healthz_answers_while_the_database_is_unreachable(settings):
    # No database access at all (no django_db mark): pytest-django refuses any query.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readyz_is_503_naming_the_workers_check_while_no_worker_is_alive():
    Worker.objects.create(
        name="gone",
        hostname="h",
        pid=1,
        concurrency=1,
        status=WorkerStatus.ALIVE,
        started=timezone.now() - timedelta(hours=1),
        heartbeat=timezone.now() - timedelta(minutes=10),  # older than the 30 s TTL
    )
    status, body = ready()
    assert status == 503
    assert body["failing"] == ["workers"]
    assert body["checks"]["workers"] == {"ok": False, "live": 0}
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True}


@pytest.mark.django_db
def test_readyz_is_200_once_a_worker_has_registered_and_beats():
    register_worker(name="probe-worker", concurrency=1, ttl_seconds=30)
    status, body = ready()
    assert status == 200, body
    assert body == {
        "status": "ready",
        "failing": [],
        "checks": {
            "database": {"ok": True},
            "migrations": {"ok": True},
            "workers": {"ok": True, "live": 1},
        },
    }


@pytest.mark.django_db
def test_readyz_names_unapplied_migrations():
    register_worker(name="probe-worker", concurrency=1, ttl_seconds=30)
    app, name = max(
        n for n in MigrationRecorder(connection).applied_migrations() if n[0] == "worker"
    )
    MigrationRecorder(connection).record_unapplied(app, name)
    status, body = ready()
    assert status == 503
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"]["unapplied"] == [f"worker.{name}"]


def test_readyz_follows_a_real_worker_process(transactional_db, tmp_path):
    assert ready()[0] == 503
    env = {**child_env(), "UCFLEET_WORKER_HEARTBEAT": "0.2", "UCFLEET_WORKER_POLL": "0.1"}
    process = start_worker("--name", "probe", env=env, log_to=tmp_path / "worker.log")
    try:
        assert wait_until(lambda: ready()[0] == 200, timeout=60, every=0.2), (
            tmp_path / "worker.log"
        ).read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # A worker that stopped cleanly is no longer counted.
    status, body = ready()
    assert status == 503 and body["failing"] == ["workers"]


def test_the_openapi_document_describes_the_probes_and_metrics():
    import yaml

    import ucfleet.api

    document = yaml.safe_load((Path(ucfleet.api.__file__).parent / "openapi.yaml").read_text())
    assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])
    assert set(document["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert document["components"]["securitySchemes"]["scrapeToken"]["scheme"] == "bearer"
