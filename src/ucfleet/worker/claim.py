"""Claiming due tasks for this worker and turning them into plain driver input."""

from __future__ import annotations

from ucfleet.updates.execution import Claim, claim_due_tasks
from ucfleet.worker.drivers.base import TaskSpec, TenantSpec


def spec_for(claim: Claim) -> TaskSpec:
    task, tenant = claim.task, claim.task.tenant
    return TaskSpec(
        task_id=task.pk,
        attempt_id=claim.attempt.pk,
        task_type=task.task_type,
        from_version=task.from_version.name,
        target_version=task.target_version.name,
        redeploy=task.redeploy,
        forced=task.is_forced,
        tenant=TenantSpec(
            id=tenant.pk,
            name=tenant.name,
            domain=tenant.domain,
            instance_id=tenant.instance_id,
            language=tenant.language,
            partner=tenant.partner.name,
            scale_unit=tenant.scale_unit.name if tenant.scale_unit else "",
        ),
    )


def claim_tasks(*, worker_name: str, limit: int) -> list[TaskSpec]:
    """Up to `limit` due tasks, now held by `worker_name` (the protocol: docs/worker.md)."""
    return [spec_for(claim) for claim in claim_due_tasks(worker_name=worker_name, limit=limit)]
