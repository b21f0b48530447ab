"""`GET /tenants/` and `GET /update-tasks/` page by the cursors of their `next`/`previous`
links (keyset), `?page=N` keeps working (API.md), and `count_estimated` says when `count` is
the database's estimate."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.conftest import BASE
from tests.factories import TenantFactory, UpdateTaskFactory
from ucfleet.core.paging import Cursor
from ucfleet.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def _walk(api, url, params, *, between=None):
    pages = []
    answer = api.get(url, params).json()
    while True:
        pages.append(answer)
        if not answer["next"]:
            return pages
        if between:
            between(len(pages))
        assert len(pages) < 100
        answer = api.get(answer["next"]).json()


def test_tenant_pages_by_cursor_lose_and_repeat_nothing_under_inserts(
    platform_api, partner_a, partner_b, versions
):
    originals = [
        TenantFactory(
            name=f"t-{(i * 7919) % 1000:03d}-{i}",
            partner=partner_a if i % 3 else partner_b,
            version=versions["current"],
        )
        for i in range(90)
    ]

    def insert(step):
        for first in ("a", "z"):
            TenantFactory(name=f"{first}-new-{step}", partner=partner_a, version=versions["old"])

    pages = _walk(platform_api, f"{BASE}/tenants/", {"page_size": 20}, between=insert)
    names = [t["name"] for page in pages for t in page["results"]]
    assert len(names) == len(set(names))
    assert {t.name for t in originals} <= set(names)
    assert names == sorted(names)
    assert all(page["count_estimated"] is False for page in pages)
    assert pages[1]["previous"] and "cursor=" in pages[1]["next"]


def test_previous_link_and_page_number_agree(platform_api, partner_a, versions):
    for i in range(45):
        TenantFactory(name=f"p-{i:03d}", partner=partner_a, version=versions["current"])
    first = platform_api.get(f"{BASE}/tenants/", {"page_size": 20}).json()
    second = platform_api.get(first["next"]).json()
    by_number = platform_api.get(f"{BASE}/tenants/", {"page_size": 20, "page": 2}).json()
    assert [t["id"] for t in second["results"]] == [t["id"] for t in by_number["results"]]
    back = platform_api.get(second["previous"]).json()
    assert [t["id"] for t in back["results"]] == [t["id"] for t in first["results"]]
    third = platform_api.get(second["next"]).json()
    assert len(third["results"]) == 5 and third["next"] is None


def test_cursor_pages_stay_filtered_and_scoped(partner_api, partner_a, partner_b, versions):
    for i in range(30):
        TenantFactory(name=f"s-{i:03d}", partner=partner_a, version=versions["current"])
        TenantFactory(name=f"s-{i:03d}-b", partner=partner_b, version=versions["current"])
    pages = _walk(partner_api, f"{BASE}/tenants/", {"page_size": 7, "search": "s-0"})
    ids = [t["id"] for page in pages for t in page["results"]]
    expected = Tenant.objects.filter(partner=partner_a, name__icontains="s-0").order_by("name")
    assert ids == list(expected.values_list("pk", flat=True))


def test_task_pages_by_cursor_under_inserts(platform_api, partner_a, versions):
    now = timezone.now()
    tenants = [TenantFactory(partner=partner_a, version=versions["current"]) for _ in range(50)]
    tasks = [
        UpdateTaskFactory(
            tenant=t,
            target_version=versions["new"],
            earliest_start=now + timezone.timedelta(minutes=i % 4),
        )
        for i, t in enumerate(tenants[:40])
    ]
    spare = iter(tenants[40:])

    def insert(step):
        UpdateTaskFactory(
            tenant=next(spare),
            target_version=versions["new"],
            earliest_start=now + timezone.timedelta(minutes=2),
        )

    pages = _walk(platform_api, f"{BASE}/update-tasks/", {"page_size": 9}, between=insert)
    ids = [t["id"] for page in pages for t in page["results"]]
    assert len(ids) == len(set(ids)) and {t.pk for t in tasks} <= set(ids)


def test_a_bad_cursor_is_a_400_that_names_it(platform_api, partner_a, versions):
    TenantFactory(partner=partner_a, version=versions["current"])
    other_order = Cursor(("earliest_start", "id"), ("2026-01-01T00:00:00+00:00", 1)).encode()
    forged_time = Cursor(("earliest_start", "id"), ("not a time", 1)).encode()
    for url, cursor in [
        ("tenants", "%%%"),
        ("tenants", "e30"),
        ("tenants", other_order),
        ("update-tasks", forged_time),
        ("update-tasks", Cursor(("earliest_start", "id"), ([1], 2)).encode()),
    ]:
        answer = platform_api.get(f"{BASE}/{url}/", {"cursor": cursor})
        assert answer.status_code == 400, (url, cursor, answer.content)
        assert "cursor" in answer.json()["errors"]


def test_estimated_count_is_flagged_and_costs_fixed_queries(
    platform_api, partner_a, versions, settings
):
    settings.UCFLEET = {**settings.UCFLEET, "EXACT_COUNT_LIMIT": 4}
    counts, answer = [], {}
    platform_api.get(f"{BASE}/tenants/")  # the first request settles the token's bookkeeping
    for n in (6, 44):
        for _ in range(n):
            TenantFactory(partner=partner_a, version=versions["current"])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE tenants_tenant")
        with CaptureQueriesContext(connection) as ctx:
            answer = platform_api.get(f"{BASE}/tenants/").json()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    if connection.vendor == "postgresql":
        assert answer["count_estimated"] is True and answer["count"] > 4
    else:  # no planner estimate on SQLite: counted exactly
        assert answer["count_estimated"] is False and answer["count"] == 50
    assert platform_api.get(f"{BASE}/tenants/", {"page": 3}).status_code in (200, 404)
