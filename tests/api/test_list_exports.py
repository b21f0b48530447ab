"""`GET /update-tasks/?format=csv` and `GET /tenants/?format=csv`: every row the list's
filters select (not one page), the portal export's columns, formula-safe cells, server
time, and only the caller's own partner's rows (R1)."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import BASE
from tests.factories import TenantFactory
from ucfleet.audit.exports import TASK_COLUMNS, TENANT_COLUMNS
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db


def read(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv") and response.streaming
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def berlin(platform_admin):
    """Server time Europe/Berlin (the maintenance window's zone)."""
    from datetime import time

    from ucfleet.maintenance.services import SlotInput, update_window

    slot = SlotInput(weekdays=[6], start=time(1, 0), duration_minutes=240)
    update_window(platform_admin, time_zone="Europe/Berlin", slots=[slot], expected_task_minutes=30)


@pytest.fixture
def fleet(a_tenants, b_tenants, task_of):
    a_tenants[0].name = "=HYPERLINK(1)"
    a_tenants[0].save(update_fields=["name"])
    return {
        "planned": task_of(a_tenants[0]),
        "failed": task_of(a_tenants[1], status=Status.FAILED),
        "foreign": task_of(b_tenants[0]),
    }


def test_the_task_export_has_every_filtered_task_of_the_callers_scope(
    fleet, platform_api, partner_api, partner_a, partner_b, berlin
):
    every = read(platform_api.get(f"{BASE}/update-tasks/", {"format": "csv", "page_size": 1}))
    assert list(every[0]) == [header for header, _ in TASK_COLUMNS]
    assert {int(r["id"]) for r in every} == {t.pk for t in fleet.values()}  # not one page
    own = read(partner_api.get(f"{BASE}/update-tasks/", {"format": "csv"}))
    assert {int(r["id"]) for r in own} == {fleet["planned"].pk, fleet["failed"].pk}
    failed = read(partner_api.get(f"{BASE}/update-tasks/", {"format": "csv", "status": "failed"}))
    assert [int(r["id"]) for r in failed] == [fleet["failed"].pk]
    row = next(r for r in own if int(r["id"]) == fleet["planned"].pk)
    assert row["tenant"] == "'=HYPERLINK(1)"  # text, never a formula
    start = fleet["planned"].earliest_start.astimezone(ZoneInfo("Europe/Berlin"))
    assert row["start"] == start.isoformat()
    foreign = partner_api.get(f"{BASE}/update-tasks/", {"format": "csv", "partner": partner_b.pk})
    assert foreign.status_code == 404 and foreign["Content-Type"] == "application/json"


def test_the_tenant_export_has_every_filtered_tenant_of_the_callers_scope(
    fleet, platform_api, partner_api, a_tenants, b_tenants, partner_a
):
    TenantFactory(partner=partner_a, version=a_tenants[1].version, name="findme-1")
    every = read(platform_api.get(f"{BASE}/tenants/", {"format": "csv"}))
    assert list(every[0]) == [header for header, _ in TENANT_COLUMNS]
    assert len(every) == len(a_tenants) + len(b_tenants) + 1
    own = read(partner_api.get(f"{BASE}/tenants/", {"format": "csv"}))
    assert {r["partner"] for r in own} == {partner_a.name}
    assert not {t.name for t in b_tenants} & {r["name"] for r in own}
    found = read(partner_api.get(f"{BASE}/tenants/", {"format": "csv", "search": "findme"}))
    assert [r["name"] for r in found] == ["findme-1"]
    assert "'=HYPERLINK(1)" in {r["name"] for r in own}


def test_a_bad_filter_is_a_json_400_and_other_actions_know_no_csv(platform_api, fleet):
    bad = platform_api.get(f"{BASE}/update-tasks/", {"format": "csv", "status": "nope"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert "status" in bad.json()["errors"]
    bad = platform_api.get(f"{BASE}/tenants/", {"format": "csv", "update_scheduled": "maybe"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    detail = platform_api.get(f"{BASE}/update-tasks/{fleet['planned'].pk}/", {"format": "csv"})
    assert detail.status_code == 404


def test_exports_need_a_token(client_for, db):
    assert client_for(None).get(f"{BASE}/update-tasks/", {"format": "csv"}).status_code == 401
