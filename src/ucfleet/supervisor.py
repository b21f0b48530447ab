"""Keeping the processes of `ucfleet run` alive: start each child, restart one that dies
(with back-off), stop them all only when asked to.

The children are a list of `ChildSpec`s (the run command builds it: workers, the portal, and
whatever else one machine should run), so another child is one more entry. Each child runs
in a process group of its own: Ctrl+C in the terminal reaches only the supervisor, which
then stops every child exactly once with SIGTERM (a worker takes a second signal as "stop
at once"), and SIGKILL after the grace period.

Every start, exit and restart is logged with the pid and the exit code or signal, and the
current pids are kept in a JSON state file (`{"supervisor": pid, "children": {name: pid}}`),
so an operator or a test can find a child's process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("ucfleet.supervisor")

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class ChildSpec:
    name: str  # unique among the children: "worker-1", "portal"
    argv: Sequence[str]
    env: Mapping[str, str] | None = None  # None: the supervisor's environment


@dataclass(frozen=True)
class RestartPolicy:
    """Wait `first_delay` before restarting a child that died, doubling after each crash up
    to `max_delay`; a child that stayed up for `stable_after` seconds starts over at
    `first_delay` when it dies."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    delay: float = 0.0  # the wait before the next restart
    restart_at: float | None = None
    restarts: int = field(default=0)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    return f"exited with code {returncode}"


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        policy: RestartPolicy | None = None,
        grace_seconds: float = 30.0,
        state_file: Path | None = None,
    ) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique: {names}")
        self.policy = policy or RestartPolicy()
        self.grace_seconds = grace_seconds
        self.state_file = state_file
        self._children = [_Child(spec, delay=self.policy.first_delay) for spec in specs]
        self._stop_requested = False
        self._kill_now = False
        self._previous_handlers: dict[int, object] = {}

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def pids(self) -> dict[str, int]:
        return {
            c.spec.name: c.process.pid
            for c in self._children
            if c.process is not None and c.process.returncode is None
        }

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Install the stop signals' handlers and start every child."""
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
        for child in self._children:
            self._spawn(child)
        self._write_state()

    def run(self, *, until: Callable[[], bool] | None = None) -> None:
        """Supervise until a stop signal arrives (or `until()` is true)."""
        while not self._stop_requested and not (until is not None and until()):
            self.check()
            time.sleep(POLL_SECONDS)

    def check(self) -> None:
        """Notice children that died and restart those whose back-off has passed."""
        now = time.monotonic()
        changed = False
        for child in self._children:
            process = child.process
            if process is not None and process.poll() is not None:
                changed = True
                self._schedule_restart(child, process, now)
            is_due = child.restart_at is not None and now >= child.restart_at
            if child.process is None and is_due and not self._stop_requested:
                child.restarts += 1
                self._spawn(child)
                changed = True
        if changed:
            self._write_state()

    def stop(self) -> None:
        """SIGTERM every child, SIGKILL what is left after the grace period (or at once on a
        second stop signal), wait for all, remove the state file."""
        self._stop_requested = True
        running = [
            (c.spec.name, c.process)
            for c in self._children
            if c.process is not None and c.process.poll() is None
        ]
        for name, process in running:
            log.info("stopping %s (pid %d)", name, process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while any(process.poll() is None for _, process in running):
            if self._kill_now or time.monotonic() >= deadline:
                for name, process in running:
                    if process.poll() is None:
                        log.warning(
                            "%s (pid %d) did not stop in time; killing it", name, process.pid
                        )
                        with contextlib.suppress(ProcessLookupError):
                            process.kill()
                for _, process in running:
                    process.wait()
                break
            time.sleep(0.05)
        for name, process in running:
            log.info("%s (pid %d) %s", name, process.pid, describe_exit(process.returncode))
        self._restore_signal_handlers()
        if self.state_file is not None:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()

    # --- internals ------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stop_requested:
            self._kill_now = True  # a second Ctrl+C: no more grace
            return
        log.info("received %s: stopping every process", signal.Signals(signum).name)
        self._stop_requested = True

    def _spawn(self, child: _Child) -> None:
        env = dict(child.spec.env) if child.spec.env is not None else None
        # process_group=0: a group of its own, so the terminal's Ctrl+C reaches only us.
        child.process = subprocess.Popen(list(child.spec.argv), env=env, process_group=0)
        child.started_at = time.monotonic()
        child.restart_at = None
        what = "started" if child.restarts == 0 else f"restarted (restart {child.restarts})"
        log.info("%s %s (pid %d)", child.spec.name, what, child.process.pid)

    def _schedule_restart(self, child: _Child, process: subprocess.Popen, now: float) -> None:
        child.process = None
        if self._stop_requested:
            return
        if now - child.started_at >= self.policy.stable_after:
            child.delay = self.policy.first_delay  # it had been fine for a while
        child.restart_at = now + child.delay
        log.error(
            "%s (pid %d) %s; restarting it in %g s",
            child.spec.name,
            process.pid,
            describe_exit(process.returncode),
            child.delay,
        )
        child.delay = min(self.policy.max_delay, child.delay * 2)

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        state = {"supervisor": os.getpid(), "children": self.pids()}
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n")
        temporary.replace(self.state_file)  # readers never see half a file

    def _restore_signal_handlers(self) -> None:
        while self._previous_handlers:
            signum, handler = self._previous_handlers.popitem()
            signal.signal(signum, handler)  # type: ignore[arg-type]
