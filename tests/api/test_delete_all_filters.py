"""The API's "delete all" and list filters fail closed (issue 9): a foreign partner or
tenant is not found, a bad or misspelt filter is a 400, and nothing is deleted."""

from __future__ import annotations

import pytest

from tests.api.conftest import BASE
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db


def _status(task) -> str:
    task.refresh_from_db()
    return task.status


def test_api_delete_all_refuses_foreign_bad_or_unknown_filters(
    partner_api, partner_b, a_tenants, b_tenants, task_of
):
    tasks = [task_of(t) for t in a_tenants + b_tenants]
    url = f"{BASE}/update-tasks/delete/"
    foreign = partner_api.post(url, {"all": True, "partner": partner_b.pk}, format="json")
    assert foreign.status_code == 404
    other_tenant = partner_api.post(url, {"all": True, "tenant": b_tenants[0].pk}, format="json")
    assert other_tenant.status_code == 404
    bogus = partner_api.post(url, {"all": True, "status": "bogus"}, format="json")
    assert bogus.status_code == 400 and "status" in bogus.json()["errors"]
    misspelt = partner_api.post(url, {"all": True, "stauts": "failed"}, format="json")
    assert misspelt.status_code == 400 and "stauts" in misspelt.json()["errors"]
    not_an_id = partner_api.post(url, {"all": True, "partner": "abc"}, format="json")
    assert not_an_id.status_code == 400 and "partner" in not_an_id.json()["errors"]
    assert all(_status(t) == Status.PLANNED for t in tasks)


def test_api_list_refuses_foreign_and_bad_filters(partner_api, partner_b, a_tenants, task_of):
    task_of(a_tenants[0])
    lists = f"{BASE}/update-tasks/"
    assert partner_api.get(lists, {"status": "bogus"}).status_code == 400
    assert partner_api.get(lists, {"partner": partner_b.pk}).status_code == 404
    assert partner_api.get(lists, {"partner": "abc"}).status_code == 400
