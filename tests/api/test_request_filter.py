"""The task list's `request` filter (the link of a digest's "and N more"): exactly the tasks
of that request the caller may see (R1); a malformed id is a 400."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import BASE

pytestmark = pytest.mark.django_db


def test_request_filter_lists_exactly_that_requests_visible_tasks(
    platform_api, partner_api, task_of, a_tenants, b_tenants
):
    request_id = uuid.uuid4()
    mine = [task_of(t, request_id=request_id) for t in a_tenants[:2]]
    task_of(a_tenants[2])  # another request
    foreign = task_of(b_tenants[0], request_id=request_id)  # partner B's, same request

    answer = platform_api.get(f"{BASE}/update-tasks/", {"request": str(request_id)})
    assert answer.status_code == 200
    ids = {row["id"] for row in answer.json()["results"]}
    assert ids == {t.pk for t in mine} | {foreign.pk}

    answer = partner_api.get(f"{BASE}/update-tasks/", {"request": str(request_id)})
    assert answer.status_code == 200
    assert {row["id"] for row in answer.json()["results"]} == {t.pk for t in mine}


def test_a_malformed_request_id_is_a_clear_400(partner_api):
    answer = partner_api.get(f"{BASE}/update-tasks/", {"request": "not-a-uuid"})
    assert answer.status_code == 400
    assert "request" in str(answer.json())
