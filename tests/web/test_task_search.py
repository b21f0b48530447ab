"""The task list's search (updates.queries.search_tasks): a tenant's name in part and in any
case, its instance ID, the target version's name; within the viewer's scope (R1)."""

from __future__ import annotations

from tests.web.conftest import client_for


def listed(client, text: str) -> set[str]:
    tasks = client.get("/tasks/", {"q": text}).context["tasks"]
    return {t.tenant.name for t in tasks}


def test_search_by_name_instance_and_version(
    platform_client, a_tenants, b_tenants, schedule, versions
):
    schedule(a_tenants[:2])
    schedule(a_tenants[2:], version=versions["en_only"])
    schedule(b_tenants[:1])
    first = a_tenants[0]
    assert listed(platform_client, first.name[1:].upper()) == {first.name}
    assert listed(platform_client, first.instance_id) == {first.name}
    assert listed(platform_client, first.instance_id[:-1]) == set()  # the ID whole, not a part
    assert listed(platform_client, versions["en_only"].name) == {a_tenants[2].name}
    assert listed(platform_client, "no such tenant") == set()
    to_new = {a_tenants[0].name, a_tenants[1].name, b_tenants[0].name}
    assert listed(platform_client, versions["new"].name) == to_new


def test_a_search_longer_than_any_interface_accepts_lists_none_and_says_why(
    platform_client, a_tenants, schedule
):
    schedule(a_tenants[:1])
    for url in ("/tasks/", "/tenants/"):
        page = platform_client.get(url, {"q": "x" * 201})
        assert page.status_code == 200
        assert 'data-testid="filter-errors"' in page.content.decode()
    assert list(platform_client.get("/tasks/", {"q": "x" * 201}).context["tasks"]) == []
    assert list(platform_client.get("/tenants/", {"q": "x" * 201}).context["tenants"]) == []
    assert listed(platform_client, a_tenants[0].name + " " * 150) == {a_tenants[0].name}


def test_search_keeps_the_partner_scope(partner_admin, a_tenants, b_tenants, schedule):
    schedule(a_tenants[:1])
    schedule(b_tenants[:1])
    partner = client_for(partner_admin)
    assert listed(partner, b_tenants[0].name) == set()
    assert listed(partner, b_tenants[0].instance_id) == set()
    assert listed(partner, a_tenants[0].name) == {a_tenants[0].name}
