"""The writers of rollouts. Creating one is part of `updates.services.schedule_updates`;
the rest is here: the administrators' actions (R22) and the worker's release of waves (R20).
Reads are in `rollouts.queries`; the execution code's hook is `rollouts.hooks.tasks_ended`.
"""

from __future__ import annotations

from ucfleet.rollouts.queries import rollout_counts, rollouts_visible_to
from ucfleet.rollouts.releasing import release_due_waves, release_wave
from ucfleet.rollouts.steering import abort, pause, resume, retry_failed

__all__ = [
    "abort",
    "pause",
    "release_due_waves",
    "release_wave",
    "resume",
    "retry_failed",
    "rollout_counts",
    "rollouts_visible_to",
]
