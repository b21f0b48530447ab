"""The tasks a worker holds, in flight: one event loop on a thread of its own runs each
task's steps as a coroutine (`steps.run_task_async`), and reports one outcome per task
through a queue that the loop's thread reads (docs/worker.md, "Execution").

Waiting costs no thread: the http driver awaits its operations on this loop (thousands of
tasks share it and a pool of connections). A driver whose steps block (`command`) has them
run in a bounded thread pool, the loop's default executor. Nothing here touches the
database: only the worker loop's thread does.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import uvloop

from ucfleet.worker.drivers import Driver, DriverFailure, Execution, HandBack, TaskSpec
from ucfleet.worker.steps import Busy, NeedsAttention, run_task_async

log = logging.getLogger(__name__)

EXECUTED, FAILED, HANDED_BACK, BUSY = "executed", "failed", "handed_back", "busy"


@dataclass
class Outcome:
    spec: TaskSpec
    execution: Execution
    kind: str  # EXECUTED | FAILED | HANDED_BACK | BUSY
    reason: str = ""
    needs_attention: bool = False  # R26: the restore failed too


async def drive(driver: Driver, execution: Execution) -> Outcome:
    """Runs the task's steps; its one outcome. Never raises (but for cancellation)."""
    spec = execution.spec
    try:
        await run_task_async(driver, execution)
    except HandBack:
        return Outcome(spec, execution, HANDED_BACK)
    except Busy as busy:
        return Outcome(spec, execution, BUSY, busy.reason)
    except DriverFailure as failure:
        needs_attention = isinstance(failure, NeedsAttention)
        return Outcome(spec, execution, FAILED, failure.reason, needs_attention)
    except Exception as exc:  # a driver bug must not leave the task in progress
        log.exception("driver error on task %s", spec.task_id)
        execution.log(f"driver error: {exc!r}")
        return Outcome(spec, execution, FAILED, f"driver error: {exc}")
    return Outcome(spec, execution, EXECUTED)


class TaskRunner:
    """Runs drivers on an event loop thread; outcomes go to `outcomes` (None wakes the
    reader). `threads` bounds a blocking driver's steps running at once."""

    def __init__(self, driver: Driver, *, threads: int, outcomes: queue.Queue) -> None:
        self.driver = driver
        self.outcomes = outcomes
        self._threads = max(1, threads)
        # uvloop: the same asyncio API at a fraction of the standard loop's cost per socket
        # event and timer, which thousands of polled operations are made of (bench/fleet.py).
        self._loop = uvloop.new_event_loop()
        self._tasks: set[asyncio.Task] = set()
        self._thread = threading.Thread(target=self._run, name="ucfleet-tasks", daemon=True)

    def start(self) -> None:
        executor = ThreadPoolExecutor(self._threads, thread_name_prefix="ucfleet-task")
        self._loop.set_default_executor(executor)
        self._thread.start()

    def submit(self, executions: list[Execution]) -> None:
        """Start these tasks (from any thread)."""
        if executions:
            self._loop.call_soon_threadsafe(self._start, executions)

    def shutdown(self) -> None:
        """Wait until every task has reported, release the driver's connections, end the
        loop and its threads."""
        if not self._thread.is_alive():
            self._loop.close()
            return
        asyncio.run_coroutine_threadsafe(self._drain(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _start(self, executions: list[Execution]) -> None:
        for execution in executions:
            task = self._loop.create_task(self._one(execution))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _one(self, execution: Execution) -> None:
        self.outcomes.put(await drive(self.driver, execution))

    async def _drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        try:
            await self.driver.aclose()
        except Exception:
            log.exception("closing the %s driver failed", self.driver.name)
        await self._loop.shutdown_default_executor()
