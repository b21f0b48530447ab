"""Lost workers (R14): a heartbeat older than the TTL means the process is gone.

Any worker may run this; every step is a compare-and-set, so two workers recovering at the
same time fail each task once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ucfleet.core.cas import compare_and_set
from ucfleet.core.timeutils import now as utcnow
from ucfleet.updates.execution import fail_interrupted_tasks
from ucfleet.worker.drivers.base import timestamp
from ucfleet.worker.models import Worker, WorkerStatus

log = logging.getLogger(__name__)


def declare_lost_workers(*, ttl_seconds: float, at: datetime | None = None) -> list[str]:
    """Alive workers whose heartbeat is older than the TTL become lost; returns their names."""
    cutoff = (at or utcnow()) - timedelta(seconds=ttl_seconds)
    lost = []
    for pk, name, heartbeat in Worker.objects.filter(
        status=WorkerStatus.ALIVE, heartbeat__lt=cutoff
    ).values_list("pk", "name", "heartbeat"):
        # The heartbeat in the condition: a worker that beat just now is not declared lost.
        if compare_and_set(
            Worker,
            pk,
            expected={"status": WorkerStatus.ALIVE, "heartbeat": heartbeat},
            changes={"status": WorkerStatus.LOST},
        ):
            log.warning("worker %s lost: last heartbeat %s", name, heartbeat.isoformat())
            lost.append(name)
    return lost


def fail_tasks_of_gone_workers(*, note: str) -> list[int]:
    """Fail every in-progress task whose holder is not an alive worker (lost, stopped without
    finishing, or unknown)."""
    alive = Worker.objects.filter(status=WorkerStatus.ALIVE).values("name")
    return fail_interrupted_tasks(alive_workers=alive, note=f"{timestamp()} {note}")


def recover_lost_workers(*, ttl_seconds: float) -> list[int]:
    """Declare silent workers lost and fail their tasks ("interrupted: worker lost").

    Each step is its own compare-and-set; a worker that dies between them leaves work that
    the next sweep (of any worker) finishes."""
    declare_lost_workers(ttl_seconds=ttl_seconds)
    failed = fail_tasks_of_gone_workers(
        note=f"worker lost: no heartbeat for more than {ttl_seconds:g} s"
    )
    if failed:
        log.warning("failed %d task(s) of lost workers: %s", len(failed), failed)
    return failed
