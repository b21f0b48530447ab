"""One rule decides what an administrator may do to a task (updates.rules): the portal's
buttons, the API's `actions` field and the services follow it together."""

from __future__ import annotations

import pytest

from tests.factories import UpdateTaskFactory
from ucfleet.core.errors import Conflict
from ucfleet.updates import rules
from ucfleet.updates.choices import Status
from ucfleet.updates.rules import TaskAction
from ucfleet.updates.services import delete_task

pytestmark = pytest.mark.django_db


def _failed_task(tenant, versions):
    return UpdateTaskFactory(
        tenant=tenant, target_version=versions["new"], status=Status.FAILED, failure_reason="x"
    )


def _row_actions(client, task) -> str:
    page = client.get("/tasks/all/?status=failed").content.decode()
    start = page.index(f'id="task-actions-{task.pk}"')
    return page[start : page.index("</span>", start)]


def test_the_portal_the_api_and_the_service_follow_one_rule(
    partner_client, partner_admin, a_tenants, versions, monkeypatch
):
    task = _failed_task(a_tenants[0], versions)
    assert 'data-testid="delete-task"' in _row_actions(partner_client, task)
    api = partner_client.get(f"/api/v1/update-tasks/{task.pk}/").json()
    assert api["actions"] == ["retry", "delete"]

    # The rule changes once: failed tasks may no longer be deleted.
    monkeypatch.setitem(rules.ACTION_STATUSES, TaskAction.DELETE, frozenset({Status.PLANNED}))

    assert 'data-testid="delete-task"' not in _row_actions(partner_client, task)
    assert 'data-testid="retry-task"' in _row_actions(partner_client, task)
    assert partner_client.get(f"/api/v1/update-tasks/{task.pk}/").json()["actions"] == ["retry"]
    assert partner_client.delete(f"/api/v1/update-tasks/{task.pk}/").status_code == 409
    with pytest.raises(Conflict):
        delete_task(partner_admin, task.pk)
    task.refresh_from_db()
    assert task.status == Status.FAILED and not task.is_archived


def test_a_forced_task_shows_partners_a_disabled_delete_and_the_api_no_actions(
    partner_client, platform_client, a_tenants, versions
):
    task = UpdateTaskFactory(tenant=a_tenants[0], target_version=versions["new"], is_forced=True)
    assert partner_client.get(f"/api/v1/update-tasks/{task.pk}/").json()["actions"] == []
    assert platform_client.get(f"/api/v1/update-tasks/{task.pk}/").json()["actions"] == [
        "postpone",
        "delete",
    ]
