"""The worker loop: claim due tasks, hand them to the task runner, record the outcomes.

The loop's thread does all the database work; the tasks in flight run as coroutines on the
task runner's event loop (`tasks.py`), and the heartbeat has a thread and a connection of
its own (`heartbeat.py`), so that nothing the loop does can delay it. Outcomes and progress
are written in batches (`recording.py`). The protocol is described in docs/worker.md.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from ucfleet.updates import execution as transitions
from ucfleet.worker import registry
from ucfleet.worker.claim import claim_tasks
from ucfleet.worker.drivers import Driver, Execution, TaskSpec, driver_from_settings
from ucfleet.worker.heartbeat import Heartbeat, check_intervals
from ucfleet.worker.housekeeping import Housekeeping
from ucfleet.worker.recording import Recorder, Running, RunSummary
from ucfleet.worker.recovery import recover_lost_workers
from ucfleet.worker.tasks import Outcome, TaskRunner

log = logging.getLogger(__name__)

# Running attempts' steps and logs are saved this often for the live view: the task list
# refreshes every 3 s (tasks/_poller.html), so saving much more often shows little sooner.
# Each save rewrites every running attempt's log: with 2,000 tasks in flight, once a second
# the saves took 13 % of the worker's time in statements (bench/fleet.py).
LOG_SAVE_SECONDS = 3.0
# Tasks one claim takes at most: a worker with thousands of free slots fills them in a few
# short transactions rather than one long one (the claim lock is held for a claim's span).
CLAIM_BATCH = 500

__all__ = ["RunSummary", "WorkerLoop", "WorkerSettings", "run_worker"]


@dataclass(frozen=True)
class WorkerSettings:
    name: str
    concurrency: int
    burst: bool
    poll_seconds: float
    heartbeat_seconds: float
    ttl_seconds: float

    def __post_init__(self) -> None:
        check_intervals(heartbeat_seconds=self.heartbeat_seconds, ttl_seconds=self.ttl_seconds)

    @classmethod
    def from_settings(
        cls,
        config: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        concurrency: int | None = None,
        burst: bool = False,
    ) -> WorkerSettings:
        config = config if config is not None else settings.UCFLEET
        return cls(
            name=name or registry.default_name(),
            concurrency=max(1, concurrency or config["WORKER_CONCURRENCY"]),
            burst=burst,
            poll_seconds=config["WORKER_POLL_SECONDS"],
            heartbeat_seconds=config["WORKER_HEARTBEAT_SECONDS"],
            ttl_seconds=config["WORKER_TTL_SECONDS"],
        )


class WorkerLoop:
    """One worker process's loop. `run()` returns when stopped (SIGTERM/SIGINT or
    `request_stop()`), or in burst mode when nothing is due and nothing runs anywhere."""

    def __init__(
        self,
        options: WorkerSettings,
        *,
        driver: Driver | None = None,
        install_signal_handlers: bool = False,
    ) -> None:
        self.options = options
        self.driver = driver or driver_from_settings(settings.UCFLEET)
        self.install_signal_handlers = install_signal_handlers
        self.summary = RunSummary()
        self._stop = threading.Event()
        self._outcomes: queue.Queue[Outcome | None] = queue.Queue()
        self._running: dict[int, Running] = {}  # by task id
        self._unrecorded: list[Outcome] = []  # outcomes whose write failed; retried
        self._recorder = Recorder(options.name, self._running, self.summary)
        self._claimed_full = False  # the last claim took a full batch: claim again at once
        self._housekeeping = Housekeeping(mail_every=options.poll_seconds)
        self._previous_handlers: dict[int, Any] = {}
        self._heartbeat: Heartbeat | None = None
        self._next_recovery = self._next_sweep = 0.0
        # The first save waits a period: most tasks are done by then.
        self._next_log_save = time.monotonic() + LOG_SAVE_SECONDS

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def is_stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self, *_: object) -> None:
        """Stop claiming; running tasks finish, those not yet updating are handed back."""
        if not self._stop.is_set():
            log.info("worker %s stopping", self.name)
        self._stop.set()
        for running in list(self._running.values()):
            running.execution.stop.set()
        self._outcomes.put_nowait(None)  # wake the loop
        # A second signal takes the default action: an operator can always kill it.
        self._restore_signal_handlers()

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> RunSummary:
        options = self.options
        registry.register_worker(
            name=options.name, concurrency=options.concurrency, ttl_seconds=options.ttl_seconds
        )
        heartbeat = self._heartbeat = Heartbeat(
            name=options.name,
            interval=options.heartbeat_seconds,
            concurrency=options.concurrency,
            ttl_seconds=options.ttl_seconds,
            # Inside a transaction (tests) no other connection sees our row: beat inline.
            threaded=not connection.in_atomic_block,
        )
        heartbeat.start()
        log.info(
            "worker %s started: driver %s, concurrency %d%s",
            options.name,
            self.driver.name,
            options.concurrency,
            ", burst" if options.burst else "",
        )
        self._install_signal_handlers()
        runner = TaskRunner(self.driver, threads=options.concurrency, outcomes=self._outcomes)
        runner.start()
        try:
            self._loop(runner)
        finally:
            self._stop.set()
            for running in list(self._running.values()):
                running.execution.stop.set()
            runner.shutdown()  # every running task reports first
            self._restore_signal_handlers()
            heartbeat.stop()  # before marking stopped: a later beat would register us again
            try:
                self._collect(block=False)
                self._write_and_claim(runner, claim=False)
                registry.mark_stopped(options.name)
            except DatabaseError:
                # Tasks still held are recovered by other workers after the TTL.
                log.exception("worker %s could not record its end", options.name)
            log.info("worker %s stopped", options.name)
        return self.summary

    def _loop(self, runner: TaskRunner) -> None:
        while True:
            try:
                if self._turn(runner):
                    return
                if not self._claimed_full:
                    # Claims took every due task the caps allow (or all our slots are
                    # taken): wait for an outcome or the next poll.
                    self._collect(block=True, timeout=self.options.poll_seconds)
            except DatabaseError:
                # The database went away or a statement failed: drop the connection and try
                # again; tasks keep running and their outcomes wait (held by this worker).
                log.exception("database error in worker %s; retrying", self.name)
                connection.close()
                time.sleep(self.options.poll_seconds)

    def _turn(self, runner: TaskRunner) -> bool:
        """One pass: heartbeat, outcomes, recovery, missed windows, claims, logs, e-mail.
        True when the loop is done (stopped, or a burst found nothing more to do)."""
        options, now = self.options, time.monotonic()
        assert self._heartbeat is not None
        self._heartbeat.beat_if_due(now)
        if self._heartbeat.declared_lost.is_set():
            self._stop_lost_tasks()
        self._collect(block=False)
        if now >= self._next_recovery:
            # Lost workers are noticed once a heartbeat interval: that is the TTL's grain.
            self._next_recovery = now + options.heartbeat_seconds
            self.summary.recovered += recover_lost_workers(ttl_seconds=options.ttl_seconds)
        if now >= self._next_sweep:
            self._next_sweep = now + options.poll_seconds
            missed = transitions.handle_missed_windows()
            self.summary.missed_moved += missed.moved
            self.summary.missed_failed += missed.failed
        claimed = self._write_and_claim(runner, claim=not self._stop.is_set())
        self._housekeeping.tick()
        is_idle = not self._running and not self._unrecorded
        is_done = is_idle and (
            self._stop.is_set()
            or (options.burst and claimed == 0 and not transitions.has_open_work())
        )
        if is_done:
            # E-mails the last outcomes queued (failures, moves) leave with us.
            self._housekeeping.tick(force_mail=True)
        return is_done

    def _stop_lost_tasks(self) -> None:
        """We were declared lost while alive (e.g. paused longer than the TTL) and the
        heartbeat registered us again: the tasks held until then are failed already; stop
        their drivers where they can stop (their results will be discarded)."""
        assert self._heartbeat is not None
        self._heartbeat.declared_lost.clear()
        for running in self._running.values():
            running.execution.stop.set()

    def _write_and_claim(self, runner: TaskRunner, *, claim: bool) -> int:
        """The outcomes collected, the running tasks' progress (every 3 s) and a claim,
        in one transaction: one commit per turn. Returns how many tasks were claimed."""
        now = time.monotonic()
        save_progress = now >= self._next_log_save and bool(self._running)
        if not self._unrecorded and not save_progress:
            # Nothing to write: the claim's own check keeps idle workers off the lock.
            return self._start(runner, self._claim() if claim else [])
        try:
            with transaction.atomic():
                self._recorder.record(self._unrecorded)
                if save_progress:
                    # Running attempts' steps and logs so far, for the task page's live view:
                    # once a LOG_SAVE_SECONDS (short tasks' are written with their outcome).
                    self._next_log_save = now + max(self.options.poll_seconds, LOG_SAVE_SECONDS)
                    self._recorder.save_progress()
                specs = self._claim() if claim else []
        except BaseException:
            # Rolled back: the outcomes are written again next turn (the tasks stay held by
            # this worker meanwhile); the claim did not happen.
            self._recorder.discard()
            raise
        self._unrecorded = []
        self._recorder.apply()
        return self._start(runner, specs)

    def _claim(self) -> list[TaskSpec]:
        free = self.options.concurrency - len(self._running) + len(self._unrecorded)
        self._claimed_full = False
        if free <= 0:
            return []
        limit = min(free, CLAIM_BATCH)
        specs = claim_tasks(worker_name=self.name, limit=limit)
        self._claimed_full = len(specs) == limit < free
        return specs

    def _start(self, runner: TaskRunner, specs: list[TaskSpec]) -> int:
        executions = []
        for spec in specs:
            execution = Execution(spec)
            if self._stop.is_set():
                execution.stop.set()
            self._running[spec.task_id] = Running(spec, execution)
            executions.append(execution)
        runner.submit(executions)
        return len(specs)

    def _collect(self, *, block: bool, timeout: float = 0.0) -> None:
        """Take the outcomes the tasks reported (waiting up to `timeout` for the first one
        when `block`); they are written with the next turn's claim."""
        try:
            first = self._outcomes.get(timeout=timeout) if block else self._outcomes.get_nowait()
            while True:
                if first is not None:  # None is a wake-up call
                    self._unrecorded.append(first)
                first = self._outcomes.get_nowait()
        except queue.Empty:
            pass

    # --- signals ---------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        if not self.install_signal_handlers:
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous_handlers[signum] = signal.signal(signum, self.request_stop)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        while self._previous_handlers:
            signum, handler = self._previous_handlers.popitem()
            signal.signal(signum, handler)


def run_worker(
    *,
    name: str | None = None,
    concurrency: int | None = None,
    burst: bool = False,
    driver: Driver | None = None,
    install_signal_handlers: bool = False,
) -> RunSummary:
    """Run one worker loop in this thread with the configured settings."""
    options = WorkerSettings.from_settings(name=name, concurrency=concurrency, burst=burst)
    loop = WorkerLoop(options, driver=driver, install_signal_handlers=install_signal_handlers)
    return loop.run()
