"""Worker rows: registration, heartbeat and stop (docs/worker.md, "Liveness")."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from django.db import transaction

from ucfleet.core.timeutils import now as utcnow
from ucfleet.worker.models import Worker, WorkerStatus
from ucfleet.worker.recovery import fail_tasks_of_gone_workers


class WorkerNameInUse(RuntimeError):
    pass


def default_name() -> str:
    """host:pid:random — unique across machines and restarts (a reused pid gets new bits)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


def _is_dead_here(worker: Worker) -> bool:
    """Whether `worker` ran on this host in a process that no longer exists: a restart under
    the same name need not wait for the TTL then."""
    if worker.hostname != socket.gethostname()[:255] or worker.pid == os.getpid():
        return False
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user has that pid now: not ours
        return False
    return False


def register_worker(*, name: str, concurrency: int, ttl_seconds: float) -> Worker:
    """Mark `name` alive. A row left by an earlier process of that name is taken over once
    that process is no longer alive (its tasks are failed as lost first); a live one refuses."""
    at = utcnow()
    fields = {
        "hostname": socket.gethostname()[:255],
        "pid": os.getpid(),
        "concurrency": concurrency,
        "status": WorkerStatus.ALIVE,
        "started": at,
        "heartbeat": at,
        "stopped": None,
    }
    with transaction.atomic():
        previous = Worker.objects.filter(name=name).first()
        if previous is None:
            return Worker.objects.create(name=name, **fields)
        if previous.status == WorkerStatus.ALIVE:
            is_fresh = previous.heartbeat > at - timedelta(seconds=ttl_seconds)
            if is_fresh and not _is_dead_here(previous):
                raise WorkerNameInUse(f"a worker named {name!r} is alive")
            Worker.objects.filter(pk=previous.pk).update(status=WorkerStatus.LOST)
        fail_tasks_of_gone_workers(note=f"worker {name} restarted: its earlier run was lost")
        Worker.objects.filter(pk=previous.pk).update(**fields)
    previous.refresh_from_db()
    return previous


def beat(name: str) -> bool:
    """Refresh the heartbeat. False when another worker declared this one lost meanwhile
    (its tasks are failed by then; the caller re-registers)."""
    return (
        Worker.objects.filter(name=name, status=WorkerStatus.ALIVE).update(heartbeat=utcnow()) == 1
    )


def mark_stopped(name: str) -> None:
    Worker.objects.filter(name=name, status=WorkerStatus.ALIVE).update(
        status=WorkerStatus.STOPPED, stopped=utcnow()
    )
