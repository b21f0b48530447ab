"""Readiness (R29): the checks behind `/readyz`, each answering ok or why not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from ucfleet.core.timeutils import now as utcnow
from ucfleet.worker.models import Worker, WorkerStatus


@dataclass
class Check:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


@cache
def _migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every migration this code ships (read from disk once per process)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check(False, {"error": str(error).strip()[:500]})
    return Check(True)


def check_migrations() -> Check:
    try:
        applied = set(MigrationRecorder(connection).applied_migrations())
    except DatabaseError as error:
        return Check(False, {"error": str(error).strip()[:500]})
    missing = sorted(f"{app}.{name}" for app, name in _migrations_on_disk() - applied)
    return Check(not missing, {"unapplied": missing} if missing else {})


def check_workers() -> Check:
    """At least one worker marked alive whose heartbeat is younger than the TTL."""
    ttl = timedelta(seconds=float(settings.UCFLEET["WORKER_TTL_SECONDS"]))
    try:
        live = Worker.objects.filter(
            status=WorkerStatus.ALIVE, heartbeat__gte=utcnow() - ttl
        ).count()
    except DatabaseError as error:
        return Check(False, {"error": str(error).strip()[:500]})
    return Check(live > 0, {"live": live})


def readiness() -> tuple[bool, dict[str, Any]]:
    """Whether this instance can serve, and the answer `/readyz` gives."""
    database = check_database()
    checks = {"database": database}
    if database.ok:
        checks["migrations"] = check_migrations()
        checks["workers"] = check_workers()
    else:
        skipped = Check(False, {"error": "database unreachable"})
        checks["migrations"] = checks["workers"] = skipped
    ready = all(c.ok for c in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "failing": [name for name, c in checks.items() if not c.ok],
        "checks": {name: {"ok": c.ok, **c.detail} for name, c in checks.items()},
    }
    return ready, body
