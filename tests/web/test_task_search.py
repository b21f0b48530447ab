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
    everyone = {t.name for t in [*a_tenants, *b_tenants[:1]]}
    assert listed(platform_client, versions["new"].name) | {a_tenants[2].name} == everyone


def test_search_keeps_the_partner_scope(partner_admin, a_tenants, b_tenants, schedule):
    schedule(a_tenants[:1])
    schedule(b_tenants[:1])
    partner = client_for(partner_admin)
    assert listed(partner, b_tenants[0].name) == set()
    assert listed(partner, b_tenants[0].instance_id) == set()
    assert listed(partner, a_tenants[0].name) == {a_tenants[0].name}
