"""The worker loop: claim due tasks, run their drivers in threads, record the outcome.

The loop's thread does the database work; the heartbeat has a thread and a connection of its
own (`heartbeat.py`), so that nothing the loop does can delay it. Driver threads do I/O only
and report through a queue. The protocol is described in docs/worker.md.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from ucfleet.updates import execution as transitions
from ucfleet.updates import waiting
from ucfleet.updates.attention import fail_task_needing_attention
from ucfleet.updates.task_steps import StepRow, record_steps
from ucfleet.worker import registry
from ucfleet.worker.claim import claim_tasks
from ucfleet.worker.drivers import (
    Driver,
    DriverFailure,
    Execution,
    HandBack,
    TaskSpec,
    driver_from_settings,
)
from ucfleet.worker.heartbeat import Heartbeat, check_intervals
from ucfleet.worker.housekeeping import Housekeeping
from ucfleet.worker.recovery import recover_lost_workers
from ucfleet.worker.steps import Busy, NeedsAttention, run_task

log = logging.getLogger(__name__)

LOG_SAVE_SECONDS = 1.0


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


@dataclass
class RunSummary:
    executed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    handed_back: list[int] = field(default_factory=list)
    discarded: list[int] = field(default_factory=list)  # taken from us while running
    recovered: list[int] = field(default_factory=list)  # other workers' tasks we failed
    missed_moved: list[int] = field(default_factory=list)
    missed_failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # busy tenants (R25), planned again


@dataclass
class _Outcome:
    spec: TaskSpec
    execution: Execution
    kind: str  # executed | failed | handed_back | busy
    reason: str = ""
    needs_attention: bool = False  # R26: the restore failed too


@dataclass
class _Running:
    spec: TaskSpec
    execution: Execution
    saved_version: int = 0
    saved_steps: int = 0  # how many of its finished steps are in the database


def _run_driver(driver: Driver, execution: Execution, outcomes: queue.Queue) -> None:
    """Driver thread: runs the steps, reports one outcome. Never raises."""
    spec = execution.spec
    try:
        run_task(driver, execution)
    except HandBack:
        outcomes.put(_Outcome(spec, execution, "handed_back"))
    except Busy as busy:
        outcomes.put(_Outcome(spec, execution, "busy", busy.reason))
    except DriverFailure as failure:
        needs_attention = isinstance(failure, NeedsAttention)
        outcomes.put(_Outcome(spec, execution, "failed", failure.reason, needs_attention))
    except Exception as exc:  # a driver bug must not leave the task in progress
        log.exception("driver error on task %s", spec.task_id)
        execution.log(f"driver error: {exc!r}")
        outcomes.put(_Outcome(spec, execution, "failed", f"driver error: {exc}"))
    else:
        outcomes.put(_Outcome(spec, execution, "executed"))


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
        self._outcomes: queue.Queue[_Outcome] = queue.Queue()
        self._running: dict[int, _Running] = {}  # by task id
        self._unrecorded: list[_Outcome] = []  # outcomes whose write failed; retried
        self._housekeeping = Housekeeping(mail_every=options.poll_seconds)
        self._previous_handlers: dict[int, Any] = {}
        self._heartbeat: Heartbeat | None = None
        self._next_recovery = self._next_sweep = 0.0
        # The first save waits a second: most tasks are done by then.
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
        self._outcomes.put_nowait(None)  # type: ignore[arg-type]  # wake the loop
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
        pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="ucfleet-task")
        try:
            self._loop(pool)
        finally:
            self._stop.set()
            for running in self._running.values():
                running.execution.stop.set()
            pool.shutdown(wait=True)
            self._restore_signal_handlers()
            heartbeat.stop()  # before marking stopped: a later beat would register us again
            try:
                self._record_outcomes(block=False)
                registry.mark_stopped(options.name)
            except DatabaseError:
                # Tasks still held are recovered by other workers after the TTL.
                log.exception("worker %s could not record its end", options.name)
            log.info("worker %s stopped", options.name)
        return self.summary

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while True:
            try:
                if self._turn(pool):
                    return
                # Claims took every due task the caps allow; wait for a slot or the next poll.
                self._record_outcomes(block=True, timeout=self.options.poll_seconds)
            except DatabaseError:
                # The database went away or a statement failed: drop the connection and try
                # again; tasks keep running and their outcomes wait (held by this worker).
                log.exception("database error in worker %s; retrying", self.name)
                connection.close()
                time.sleep(self.options.poll_seconds)

    def _turn(self, pool: ThreadPoolExecutor) -> bool:
        """One pass: heartbeat, outcomes, recovery, missed windows, claims, logs, e-mail.
        True when the loop is done (stopped, or a burst found nothing more to do)."""
        options, now = self.options, time.monotonic()
        assert self._heartbeat is not None
        self._heartbeat.beat_if_due(now)
        if self._heartbeat.declared_lost.is_set():
            self._stop_lost_tasks()
        self._record_outcomes(block=False)
        if now >= self._next_recovery:
            # Lost workers are noticed once a heartbeat interval: that is the TTL's grain.
            self._next_recovery = now + options.heartbeat_seconds
            self.summary.recovered += recover_lost_workers(ttl_seconds=options.ttl_seconds)
        if now >= self._next_sweep:
            self._next_sweep = now + options.poll_seconds
            missed = transitions.handle_missed_windows()
            self.summary.missed_moved += missed.moved
            self.summary.missed_failed += missed.failed
        claimed = 0 if self._stop.is_set() else self._claim(pool)
        self._save_logs()
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

    def _claim(self, pool: ThreadPoolExecutor) -> int:
        free = self.options.concurrency - len(self._running)
        if free <= 0:
            return 0
        specs = claim_tasks(worker_name=self.name, limit=free)
        for spec in specs:
            execution = Execution(spec)
            if self._stop.is_set():
                execution.stop.set()
            self._running[spec.task_id] = _Running(spec, execution)
            pool.submit(_run_driver, self.driver, execution, self._outcomes)
        return len(specs)

    def _record_outcomes(self, *, block: bool, timeout: float = 0.0) -> None:
        """Write the outcomes the driver threads reported (waiting up to `timeout` for the
        first one when `block`)."""
        pending, self._unrecorded = self._unrecorded, []
        try:
            first = self._outcomes.get(timeout=timeout) if block else self._outcomes.get_nowait()
            pending.append(first)
            while True:
                pending.append(self._outcomes.get_nowait())
        except queue.Empty:
            pass
        # None is a wake-up call. What cannot be written now (the database is away) is kept
        # for the next turn; the tasks stay held by this worker meanwhile.
        self._unrecorded = [o for o in pending if o is not None]
        self._save_steps([o.spec.task_id for o in self._unrecorded])
        executed = [o for o in self._unrecorded if o.kind == "executed"]
        if executed:  # successes in one transaction
            self._complete(executed)
            self._unrecorded = [o for o in self._unrecorded if o.kind != "executed"]
        while self._unrecorded:  # failures and hand-backs, rarer, one by one
            self._record(self._unrecorded[0])
            self._unrecorded.pop(0)

    def _complete(self, executed: list[_Outcome]) -> None:
        done = set(
            transitions.complete_tasks(
                worker_name=self.name,
                finished=[
                    transitions.Finished(o.spec.task_id, o.spec.attempt_id, o.execution.text())
                    for o in executed
                ],
            )
        )
        for outcome in executed:
            task_id = outcome.spec.task_id
            (self.summary.executed if task_id in done else self.summary.discarded).append(task_id)
            self._running.pop(task_id, None)

    def _record(self, outcome: _Outcome) -> None:
        spec, text = outcome.spec, outcome.execution.text()
        if outcome.kind == "failed":
            # R26: a failed restore also tells the platform administrators at once.
            fail = fail_task_needing_attention if outcome.needs_attention else transitions.fail_task
            held = fail(
                task_id=spec.task_id,
                attempt_id=spec.attempt_id,
                worker_name=self.name,
                reason=outcome.reason,
                log_text=text,
            )
            (self.summary.failed if held else self.summary.discarded).append(spec.task_id)
        elif outcome.kind == "busy":
            result = waiting.wait_for_idle(
                task_id=spec.task_id,
                attempt_id=spec.attempt_id,
                worker_name=self.name,
                reason=outcome.reason,
                log_text=text,
            )
            summary = {waiting.WAITING: self.summary.waiting, waiting.FAILED: self.summary.failed}
            summary.get(result, self.summary.discarded).append(spec.task_id)
        else:
            held = transitions.hand_back_task(
                task_id=spec.task_id,
                attempt_id=spec.attempt_id,
                worker_name=self.name,
                log_text=text,
            )
            (self.summary.handed_back if held else self.summary.discarded).append(spec.task_id)
        self._running.pop(spec.task_id, None)

    def _save_logs(self) -> None:
        """Running attempts' steps so far, for the task list's live view: at most once a
        second (short tasks' logs are written only with their outcome)."""
        now = time.monotonic()
        if now < self._next_log_save:
            return
        self._next_log_save = now + max(self.options.poll_seconds, LOG_SAVE_SECONDS)
        self._save_steps(list(self._running))
        for running in self._running.values():
            version = running.execution.version
            if version != running.saved_version:
                transitions.save_attempt_log(
                    attempt_id=running.spec.attempt_id, log_text=running.execution.text()
                )
                running.saved_version = version

    def _save_steps(self, task_ids: list[int]) -> None:
        """The steps that have ended since the last save, of these running tasks, in one
        batch (R24): the timeline shows them while the task runs."""
        rows: list[StepRow] = []
        saved: list[tuple[_Running, int]] = []
        for task_id in task_ids:
            running = self._running.get(task_id)
            if running is None:
                continue
            done = running.execution.finished_steps(after=running.saved_steps)
            spec = running.spec
            rows += [
                StepRow(
                    spec.task_id,
                    spec.attempt_id,
                    r.step,
                    r.started,
                    r.finished or r.started,
                    r.outcome,
                    r.output,
                )
                for r in done
            ]
            saved.append((running, running.saved_steps + len(done)))
        if rows:
            record_steps(rows)
        for running, count in saved:  # only once written: a failed write is tried again
            running.saved_steps = count

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
