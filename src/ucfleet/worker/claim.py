"""Claiming due tasks for this worker and turning them into plain driver input."""

from __future__ import annotations

from ucfleet.updates.execution import Claim, claim_due_tasks
from ucfleet.worker.drivers.base import TaskSpec, TenantSpec


def spec_for(claim: Claim) -> TaskSpec:
    return TaskSpec(
        task_id=claim.task_id,
        attempt_id=claim.attempt_id,
        task_type=claim.task_type,
        from_version=claim.from_version,
        target_version=claim.target_version,
        redeploy=claim.redeploy,
        forced=claim.is_forced,
        wait_for_idle=claim.wait_for_idle,
        tenant=TenantSpec(
            id=claim.tenant_id,
            name=claim.tenant_name,
            domain=claim.tenant_domain,
            instance_id=claim.instance_id,
            language=claim.tenant_language,
            partner=claim.partner_name,
            scale_unit=claim.scale_unit_name or "",
        ),
    )


def claim_tasks(*, worker_name: str, limit: int) -> list[TaskSpec]:
    """Up to `limit` due tasks, now held by `worker_name` (the protocol: docs/worker.md)."""
    return [spec_for(claim) for claim in claim_due_tasks(worker_name=worker_name, limit=limit)]
