"""The worker's heartbeat, on a thread of its own (docs/worker.md, "Liveness").

The loop's thread also records outcomes, sweeps missed windows and sends e-mail; any of these
may be slow (a mail relay that takes seconds per message). If the heartbeat waited for them,
a healthy worker could fall silent for longer than the TTL and have its tasks failed as
"interrupted: worker lost". So the heartbeat depends on nothing but its own database
connection: Django's connections are per thread, this thread closes its own when it ends.
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connection

from ucfleet.worker import registry

log = logging.getLogger(__name__)

# The TTL must cover this many heartbeat intervals: one late or failed beat (a database
# hiccup, a busy SQLite write lock) must not make a live worker look lost.
MIN_BEATS_PER_TTL = 3


class HeartbeatSettingsError(ValueError):
    pass


def check_intervals(*, heartbeat_seconds: float, ttl_seconds: float) -> None:
    """Refuse settings under which a live worker could be declared lost."""
    if heartbeat_seconds <= 0:
        raise HeartbeatSettingsError(
            f"UCFLEET_WORKER_HEARTBEAT must be more than 0 seconds, got {heartbeat_seconds:g}"
        )
    if ttl_seconds < MIN_BEATS_PER_TTL * heartbeat_seconds:
        raise HeartbeatSettingsError(
            f"UCFLEET_WORKER_TTL ({ttl_seconds:g} s) must be at least {MIN_BEATS_PER_TTL} "
            f"heartbeats long (UCFLEET_WORKER_HEARTBEAT is {heartbeat_seconds:g} s, so at "
            f"least {MIN_BEATS_PER_TTL * heartbeat_seconds:g} s): otherwise one late heartbeat "
            "makes a live worker lost and its running tasks fail"
        )


class Heartbeat:
    """Refreshes worker `name`'s row every `interval` seconds until `stop()`.

    When a beat finds the row no longer alive (another worker declared this one lost, e.g.
    after the whole process was paused longer than the TTL), it registers the worker again
    and sets `declared_lost`: the loop then stops the drivers of the tasks it held, which
    are failed already. `threaded=False` beats only when the loop calls `beat_if_due()`: for
    a loop that runs inside a transaction (tests), where another connection could not see
    the worker row it wrote.
    """

    def __init__(
        self, *, name: str, interval: float, concurrency: int, ttl_seconds: float, threaded: bool
    ) -> None:
        self.name = name
        self.interval = interval
        self.concurrency = concurrency
        self.ttl_seconds = ttl_seconds
        self.threaded = threaded
        self.declared_lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_inline = 0.0

    def start(self) -> None:
        if self.threaded:
            self._thread = threading.Thread(
                target=self._run, name=f"ucfleet-heartbeat-{self.name}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop beating; returns once no beat is under way (the caller marks the row
        stopped next, and a beat after that would register the worker again)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def beat_if_due(self, now: float) -> None:
        """Inline mode: beat when an interval has passed since the last one."""
        if not self.threaded and now >= self._next_inline:
            self._next_inline = now + self.interval
            self.beat()

    def beat(self) -> None:
        if registry.beat(self.name):
            return
        log.error("worker %s was declared lost; registering again", self.name)
        self.declared_lost.set()
        registry.register_worker(
            name=self.name, concurrency=self.concurrency, ttl_seconds=self.ttl_seconds
        )

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.beat()
                except DatabaseError:
                    # Try again next interval on a fresh connection; the TTL covers a few.
                    log.exception("heartbeat of worker %s failed; retrying", self.name)
                    connection.close()
                except Exception:
                    log.exception("heartbeat of worker %s failed; retrying", self.name)
        finally:
            connection.close()
