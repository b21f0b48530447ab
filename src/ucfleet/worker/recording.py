"""Writing what the worker's tasks did: outcomes in batches, and the steps and logs of
running tasks (docs/worker.md, "Execution"). Only the loop's thread calls this.

One turn's outcomes are written together, with the turn's claim (one commit): its
successes in one batch (`complete_tasks`), its plain failures in another (`fail_tasks`);
hand-backs, busy tenants (R25) and failed restores (R26) are rarer and written one by one.
Each of these is its transition's one place (change log, outbox, webhooks). The steps that
ended since the last save, of every running task, are one insert; the attempt logs that
changed, one statement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ucfleet.updates import execution as transitions
from ucfleet.updates import waiting
from ucfleet.updates.attention import fail_task_needing_attention
from ucfleet.updates.task_steps import StepRow, record_steps
from ucfleet.worker.drivers import Execution, TaskSpec
from ucfleet.worker.tasks import BUSY, EXECUTED, FAILED, Outcome


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
class Running:
    spec: TaskSpec
    execution: Execution
    saved_version: int = 0
    saved_steps: int = 0  # how many of its finished steps are in the database


class Recorder:
    """Writes outcomes and progress of the tasks in `running` (the loop's dict, by task id)
    for worker `name`; each recorded task leaves `running`.

    The writes may run inside the caller's transaction (the loop writes a turn's outcomes
    and its claim in one): what they mean for `running` and the summary is staged and
    takes effect with `apply()` once the caller has committed, or is dropped with
    `discard()` when the transaction failed (then the same outcomes are written again)."""

    def __init__(self, name: str, running: dict[int, Running], summary: RunSummary) -> None:
        self.name = name
        self.running = running
        self.summary = summary
        self._staged: list[Callable[[], None]] = []
        self._undo: list[Callable[[], None]] = []

    def record(self, pending: list[Outcome]) -> None:
        """Write these outcomes (staged until `apply()`)."""
        self.save_steps(o.spec.task_id for o in pending)
        executed = [o for o in pending if o.kind == EXECUTED]
        if executed:
            self._complete(executed)
        failed = [o for o in pending if o.kind == FAILED and not o.needs_attention]
        if failed:
            self._fail(failed)
        for outcome in pending:  # hand-backs, busy tenants, failed restores: rarer, one by one
            if outcome.kind != EXECUTED and (outcome.kind != FAILED or outcome.needs_attention):
                self._record_one(outcome)

    def apply(self) -> None:
        """The writes since the last apply or discard are committed."""
        staged, self._staged, self._undo = self._staged, [], []
        for change in staged:
            change()

    def discard(self) -> None:
        """The writes since the last apply or discard were rolled back."""
        undo, self._staged, self._undo = self._undo, [], []
        for change in reversed(undo):
            change()

    def _done(self, task_id: int, into: list[int]) -> None:
        def change() -> None:
            into.append(task_id)
            self.running.pop(task_id, None)

        self._staged.append(change)

    def _complete(self, executed: list[Outcome]) -> None:
        done = set(
            transitions.complete_tasks(
                worker_name=self.name,
                finished=[
                    transitions.Finished(o.spec.task_id, o.spec.attempt_id, o.execution.text())
                    for o in executed
                ],
            )
        )
        self._forget(executed, done, self.summary.executed)

    def _fail(self, failed: list[Outcome]) -> None:
        done = set(
            transitions.fail_tasks(
                worker_name=self.name,
                failed=[
                    transitions.Failed(
                        o.spec.task_id, o.spec.attempt_id, o.reason, o.execution.text()
                    )
                    for o in failed
                ],
            )
        )
        self._forget(failed, done, self.summary.failed)

    def _forget(self, outcomes: list[Outcome], done: set[int], into: list[int]) -> None:
        for outcome in outcomes:
            task_id = outcome.spec.task_id
            self._done(task_id, into if task_id in done else self.summary.discarded)

    def _record_one(self, outcome: Outcome) -> None:
        spec, text = outcome.spec, outcome.execution.text()
        held_by_us: dict[str, Any] = {
            "task_id": spec.task_id,
            "attempt_id": spec.attempt_id,
            "worker_name": self.name,
            "log_text": text,
        }
        if outcome.kind == FAILED:  # R26: the restore failed too; the platform is told
            held = fail_task_needing_attention(reason=outcome.reason, **held_by_us)
            self._done(spec.task_id, self.summary.failed if held else self.summary.discarded)
        elif outcome.kind == BUSY:
            result = waiting.wait_for_idle(reason=outcome.reason, **held_by_us)
            summary = {waiting.WAITING: self.summary.waiting, waiting.FAILED: self.summary.failed}
            self._done(spec.task_id, summary.get(result, self.summary.discarded))
        else:
            held = transitions.hand_back_task(**held_by_us)
            into = self.summary.handed_back if held else self.summary.discarded
            self._done(spec.task_id, into)

    def save_progress(self) -> None:
        """Running attempts' steps and logs so far, for the task page's live view."""
        self.save_steps(list(self.running))
        changed = [r for r in self.running.values() if r.execution.version != r.saved_version]
        versions = [r.execution.version for r in changed]  # before reading the texts
        transitions.save_attempt_logs([(r.spec.attempt_id, r.execution.text()) for r in changed])
        for running, version in zip(changed, versions, strict=True):
            running.saved_version = version

    def save_steps(self, task_ids: Iterable[int]) -> None:
        """The steps that have ended since the last save, of these running tasks, in one
        batch (R24): the timeline shows them while the task runs."""
        rows: list[StepRow] = []
        saved: list[tuple[Running, int]] = []
        for task_id in task_ids:
            running = self.running.get(task_id)
            if running is None:
                continue
            done = running.execution.finished_steps(after=running.saved_steps)
            if not done:
                continue
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
        # Counted as saved at once (a later save in the same transaction must not write them
        # again), and counted back if the transaction fails (then they are written again).
        for running, count in saved:
            previous, running.saved_steps = running.saved_steps, count
            self._undo.append(functools.partial(setattr, running, "saved_steps", previous))
