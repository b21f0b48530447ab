"""R24–R25 in the API: a task's `steps` and `waiting_reason`, the create option
`wait_for_idle` (strict booleans only), and none of it across partners."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import BASE
from ucfleet.updates.models import TaskAttempt, TaskStep, UpdateTask

pytestmark = pytest.mark.django_db


def _with_steps(task):
    at = timezone.now()
    attempt = TaskAttempt.objects.create(task=task, worker_name="w", started=at, outcome="failed")
    for i, (step, outcome) in enumerate(
        [("pre_check", "succeeded"), ("backup", "succeeded"), ("update", "failed")]
    ):
        TaskStep.objects.create(
            task=task,
            attempt=attempt,
            step=step,
            started=at + timedelta(seconds=i),
            finished=at + timedelta(seconds=i, milliseconds=500),
            outcome=outcome,
            output=f"{step} output",
        )
    return attempt


def test_the_detail_lists_the_steps_in_order(partner_api, a_tenants, task_of):
    task = task_of(a_tenants[0], status="failed", failure_reason="update failed: restored to 14.9")
    attempt = _with_steps(task)

    body = partner_api.get(f"{BASE}/update-tasks/{task.pk}/").json()

    assert [(s["step"], s["outcome"]) for s in body["steps"]] == [
        ("pre_check", "succeeded"),
        ("backup", "succeeded"),
        ("update", "failed"),
    ]
    first = body["steps"][0]
    assert set(first) == {"step", "started", "finished", "outcome", "output", "attempt"}
    assert first["started"].endswith("Z") and first["output"] == "pre_check output"
    assert first["attempt"] == attempt.pk
    assert body["wait_for_idle"] is True and body["waiting_reason"] == ""


def test_a_waiting_task_shows_its_reason_in_list_and_detail(partner_api, a_tenants, task_of):
    next_check = timezone.now() + timedelta(seconds=60)
    task = task_of(a_tenants[0], waiting_reason="busy: 3 active calls", next_check=next_check)

    listed = partner_api.get(f"{BASE}/update-tasks/").json()["results"]
    detail = partner_api.get(f"{BASE}/update-tasks/{task.pk}/").json()

    assert [(t["id"], t["waiting_reason"]) for t in listed] == [(task.pk, "busy: 3 active calls")]
    assert detail["status"] == "planned" and detail["waiting_reason"] == "busy: 3 active calls"
    assert detail["next_check"].endswith("Z")


def test_steps_and_waiting_reasons_do_not_cross_partners(
    client_for, partner_b_admin, a_tenants, task_of
):
    task = task_of(a_tenants[0], waiting_reason="busy: 3 active calls")
    _with_steps(task)
    other = client_for(partner_b_admin)

    assert other.get(f"{BASE}/update-tasks/{task.pk}/").status_code == 404
    assert other.get(f"{BASE}/update-tasks/").json()["results"] == []


def _create(api, tenants, versions, **extra):
    body = {
        "tenants": [t.pk for t in tenants],
        "timing": "immediate",
        "target_version": versions["new"].pk,
        **extra,
    }
    return api.post(f"{BASE}/update-tasks/", body, format="json")


def test_wait_for_idle_defaults_to_true_and_can_be_turned_off(partner_api, a_tenants, versions):
    default = _create(partner_api, a_tenants[:1], versions)
    off = _create(partner_api, a_tenants[1:2], versions, wait_for_idle=False)

    assert default.status_code == off.status_code == 201
    assert default.json()["created"][0]["wait_for_idle"] is True
    assert off.json()["created"][0]["wait_for_idle"] is False
    assert UpdateTask.objects.get(tenant=a_tenants[1]).wait_for_idle is False


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "maybe", None, [], {}, "\u0000", 2**70])
def test_a_non_boolean_wait_for_idle_is_a_400_naming_the_field(
    partner_api, a_tenants, versions, value
):
    for path in ("/update-tasks/", "/update-tasks/preview/"):
        body = {
            "tenants": [a_tenants[0].pk],
            "timing": "immediate",
            "target_version": versions["new"].pk,
            "wait_for_idle": value,
        }
        answer = partner_api.post(f"{BASE}{path}", body, format="json")
        assert answer.status_code == 400, (path, value, answer.content)
        assert "wait_for_idle" in answer.json()["errors"]
    assert not UpdateTask.objects.exists()
