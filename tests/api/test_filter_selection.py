"""R19 through the real interfaces: a schedule request's `filter` selects exactly the tenants
the tenant list shows for the same filter — the API's `GET /tenants/` and the portal's UC
Tenants page — and a partner's filter naming foreign data answers 404 and changes nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.conftest import BASE
from tests.factories import ScaleUnitFactory, TenantFactory
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(partner_a, partner_b, versions):
    shared, own_a, own_b = (ScaleUnitFactory(name=n) for n in ("shared-1", "a-only", "b-only"))
    made = [
        ("acme-prod", partner_a, "current", shared, {}),
        ("acme-test", partner_a, "old", own_a, {"is_productive": False, "is_test": True}),
        ("zeta-nfr", partner_a, "current", own_a, {"is_productive": False, "is_nfr": True}),
        ("acme-b", partner_b, "current", shared, {}),
        ("beta-b", partner_b, "old", own_b, {"is_test": True}),
    ]
    tenants = {
        name: TenantFactory(
            name=name, partner=partner, version=versions[v], scale_unit=unit, **flags
        )
        for name, partner, v, unit, flags in made
    }
    return {"tenants": tenants, "units": {"shared": shared, "a": own_a, "b": own_b}}


# (API list query, portal list query, the `filter` body) — the same criteria three ways.
def _cases(fleet, partner_a, partner_b, versions):
    shared = fleet["units"]["shared"].pk
    return [
        ({"partner": partner_a.pk}, {"partner": partner_a.pk}, {"partner": [partner_a.pk]}),
        ({"partner": partner_b.pk}, {"partner": partner_b.pk}, {"partner": [partner_b.pk]}),
        (
            {"version": versions["old"].pk},
            {"version": versions["old"].pk},
            {"version": [versions["old"].pk]},
        ),
        ({"version": "14.9"}, {"version": versions["current"].pk}, {"version": ["14.9"]}),
        ({"scale_unit": shared}, {"scale_unit": shared}, {"scale_unit": [shared]}),
        ({"is_test": "true"}, {"kind": "test"}, {"is_test": True}),
        ({"is_nfr": "true"}, {"kind": "nfr"}, {"is_nfr": True}),
        ({"is_productive": "true"}, {"kind": "productive"}, {"is_productive": True}),
        ({"search": "acme"}, {"q": "acme"}, {"search": "acme"}),
        (
            {"search": "acme", "scale_unit": shared, "is_productive": "true"},
            {"q": "acme", "scale_unit": shared, "kind": "productive"},
            {"search": "acme", "scale_unit": [shared], "is_productive": True},
        ),
    ]


def _api_list(api, query) -> set[str]:
    answer = api.get(f"{BASE}/tenants/", {**query, "page_size": 500})
    assert answer.status_code == 200, answer.json()
    return {t["name"] for t in answer.json()["results"]}


def _portal_list(admin, query) -> set[str]:
    client = Client()
    client.force_login(admin)
    page = client.get("/tenants/", query)
    assert page.status_code == 200
    return set(re.findall(r'<tr data-tenant="([^"]+)"', page.content.decode()))


def _body(versions, selection, **extra):
    return {"timing": "immediate", "target_version": versions["new"].pk, **selection, **extra}


def _previewed(api, versions, tenant_filter) -> set[str]:
    answer = api.post(
        f"{BASE}/update-tasks/preview/", _body(versions, {"filter": tenant_filter}), format="json"
    )
    assert answer.status_code == 200, answer.json()
    data = answer.json()
    return {p["tenant_name"] for p in data["planned"]} | {s["tenant_name"] for s in data["skipped"]}


@pytest.mark.parametrize("who", ["platform_admin", "partner_admin"])
def test_a_filter_selects_exactly_what_both_tenant_lists_show(
    who, request, client_for, fleet, partner_a, partner_b, versions
):
    admin = request.getfixturevalue(who)
    api = client_for(admin)
    for api_query, portal_query, tenant_filter in _cases(fleet, partner_a, partner_b, versions):
        if not admin.is_platform_admin and (tenant_filter.get("partner") == [partner_b.pk]):
            continue  # foreign: below
        listed = _api_list(api, api_query)
        assert listed, api_query  # every case matches something for both profiles
        assert _portal_list(admin, portal_query) == listed, portal_query
        assert _previewed(api, versions, tenant_filter) == listed, tenant_filter


def test_create_with_a_filter_creates_the_listed_tenants_tasks(platform_api, fleet, versions):
    listed = _api_list(platform_api, {"search": "acme"})
    answer = platform_api.post(
        f"{BASE}/update-tasks/", _body(versions, {"filter": {"search": "acme"}}), format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert {t["tenant"]["name"] for t in answer.json()["created"]} == listed
    assert set(UpdateTask.objects.values_list("tenant__name", flat=True)) == listed


@pytest.mark.parametrize(
    "make",
    [
        lambda fleet, b: {"partner": [b.pk]},
        lambda fleet, b: {"scale_unit": [fleet["units"]["b"].pk]},
        lambda fleet, b: {"scale_unit": [987_654]},
        lambda fleet, b: {"version": ["99.99"]},
        lambda fleet, b: {"version": ["15.0"]},  # a test version: platform administrators only
    ],
    ids=["foreign-partner", "foreign-unit", "unknown-unit", "unknown-version", "test-version"],
)
@pytest.mark.parametrize("path", ["/update-tasks/", "/update-tasks/preview/"])
def test_a_partner_filter_naming_foreign_data_is_not_found(
    partner_api, fleet, partner_b, versions, make, path
):
    answer = partner_api.post(
        f"{BASE}{path}", _body(versions, {"filter": make(fleet, partner_b)}), format="json"
    )
    assert answer.status_code == 404, answer.json()
    assert not UpdateTask.objects.exists()
    assert not ChangeLogEntry.objects.filter(object_type="update_request").exists()


def test_an_empty_filter_selection_is_a_400_naming_the_filter(partner_api, fleet, versions):
    answer = partner_api.post(
        f"{BASE}/update-tasks/", _body(versions, {"filter": {"search": "beta"}}), format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "filter_matched_none"
    assert set(answer.json()["errors"]) == {"filter"}
    assert not UpdateTask.objects.exists()


@pytest.mark.parametrize(
    "selection",
    [
        {"filter": {"is_test": "yes"}},
        {"filter": {"partner": "4"}},
        {"filter": {"partner": [0]}},
        {"filter": {"search": "x" * 201}},
        {"filter": {"serach": "acme"}},  # misspelt: never "every tenant"
        {"filter": "acme"},
        {"filter": {"search": "acme"}, "all": True},
    ],
)
def test_bad_filters_are_400_and_change_nothing(platform_api, fleet, versions, selection):
    answer = platform_api.post(f"{BASE}/update-tasks/", _body(versions, selection), format="json")
    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"]
    assert not UpdateTask.objects.exists()


def test_the_tenant_list_gains_its_new_filters_additively(platform_api, fleet, versions):
    shared = fleet["units"]["shared"].pk
    assert _api_list(platform_api, {"scale_unit": shared}) == {"acme-prod", "acme-b"}
    assert _api_list(platform_api, {"is_test": "false", "is_nfr": "false"}) == {
        "acme-prod",
        "acme-b",
    }
    assert _api_list(platform_api, {"scale_unit": 987_654}) == set()  # a list stays a list
    bad = platform_api.get(f"{BASE}/tenants/", {"is_nfr": "maybe"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"is_nfr"}
