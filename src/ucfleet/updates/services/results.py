"""What the task services answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from ucfleet.updates.models import UpdateTask
from ucfleet.updates.planning import Notice, SchedulePlan, Skip

if TYPE_CHECKING:
    from ucfleet.rollouts.models import Rollout


@dataclass
class ScheduleResult:
    request_id: uuid.UUID
    created: QuerySet[UpdateTask]  # lazy: a platform-wide request may create 100,000
    created_count: int
    skipped: list[Skip]
    warnings: list[Notice]
    plan: SchedulePlan
    # The rollout the request made (R18); None only when nothing was created.
    rollout: Rollout | None = None


@dataclass(frozen=True)
class Refusal:
    task_id: int
    reason: str


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    # The new earliest starts of moved tasks, one per group moved together (in order).
    moved_to: list[datetime] = field(default_factory=list)
