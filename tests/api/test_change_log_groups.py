"""`GET /change-log/` keeps its fields and gains `group` and `group_size`; `?grouped=true`
lists a bulk action as one entry, `?group=KEY` lists its entries; a partner counts and lists
its own entries of a group only (R1)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import BASE

pytestmark = pytest.mark.django_db

FIELDS = {"id", "at", "actor", "action", "object_type", "object_id", "field", "old", "new"}


@pytest.fixture
def cancelled(a_tenants, b_tenants, versions, platform_api):
    """One request over both partners' 5 tenants, then all 5 tasks deleted at once."""
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    body = {
        "tenants": [t.pk for t in (*a_tenants, *b_tenants)],
        "timing": "custom",
        "start": start.isoformat(),
        "target_version": versions["new"].pk,
    }
    created = platform_api.post(f"{BASE}/update-tasks/", body, format="json")
    assert created.status_code == 201, created.content
    deleted = platform_api.post(f"{BASE}/update-tasks/delete/", {"all": True}, format="json")
    assert deleted.status_code == 200, deleted.content
    assert len(deleted.json()["done"]) == 5


def test_entries_carry_their_group_and_its_size(cancelled, platform_api):
    rows = platform_api.get(f"{BASE}/change-log/", {"action": "cancel"}).json()["results"]
    assert len(rows) == 5
    assert set(rows[0]) >= FIELDS
    [group] = {r["group"] for r in rows}
    assert group and {r["group_size"] for r in rows} == {5}
    created = platform_api.get(f"{BASE}/change-log/", {"object_type": "update_request"}).json()
    # one entry per partner of the request: a group of 2 for the platform
    assert {r["group_size"] for r in created["results"]} == {2}


def test_grouped_lists_one_entry_per_group_and_group_lists_its_rows(
    cancelled, platform_api, partner_api
):
    grouped = platform_api.get(f"{BASE}/change-log/", {"action": "cancel", "grouped": "true"})
    [line] = grouped.json()["results"]
    assert line["group_size"] == 5
    rows = platform_api.get(f"{BASE}/change-log/", {"group": line["group"]}).json()
    assert rows["count"] == 5
    own = partner_api.get(f"{BASE}/change-log/", {"action": "cancel", "grouped": "true"}).json()
    [own_line] = own["results"]
    assert own_line["group"] == line["group"] and own_line["group_size"] == 3
    own_rows = partner_api.get(f"{BASE}/change-log/", {"group": line["group"]}).json()
    assert own_rows["count"] == 3
    exported = partner_api.get(f"{BASE}/change-log/", {"group": line["group"], "format": "csv"})
    table = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert len(table) == 3 and {r["group"] for r in table} == {line["group"]}


def test_a_bad_group_filter_is_a_400(platform_api):
    answer = platform_api.get(f"{BASE}/change-log/", {"group": "x" * 40})
    assert answer.status_code == 400
    assert platform_api.get(f"{BASE}/change-log/", {"grouped": "maybe"}).status_code == 400
