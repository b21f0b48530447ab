"""The long portal lists page by cursor (keyset): every row once across the pages even while
rows are inserted, Previous returns the page before, filters, sorting and the partner scope
hold on every page, and a count above the exact limit says it is an estimate."""

from __future__ import annotations

import html
import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TenantFactory, UpdateTaskFactory
from tests.web.conftest import client_for
from ucfleet.core.paging import Cursor
from ucfleet.tenants.models import Tenant

pytestmark = pytest.mark.django_db

NEXT = re.compile(r'href="\?([^"]*)"[^>]*data-testid="next-page"')
PREVIOUS = re.compile(r'href="\?([^"]*)"[^>]*data-testid="previous-page"')
TENANT_ROW = re.compile(r'<tr data-tenant="([^"]+)"')
TASK_ROW = re.compile(r'id="task-status-(\d+)"')


def _tenants(n, partner, version, *, prefix="t"):
    rng = random.Random(n)
    return [
        TenantFactory(
            name=f"{prefix}-{rng.randrange(10**6):06d}-{i:03d}", partner=partner, version=version
        )
        for i in range(n)
    ]


def _walk(client, url, row_pattern, *, between=None):
    """Every page from `url` on by the Next links: (rows of each page, last page's html)."""
    pages, steps = [], 0
    query = url
    while True:
        response = client.get(query)
        assert response.status_code == 200
        page = response.content.decode()
        pages.append(row_pattern.findall(page))
        found = NEXT.search(page)
        if not found:
            return pages, page
        if between:
            between(steps)
        steps += 1
        assert steps < 100
        query = url.split("?")[0] + "?" + html.unescape(found.group(1))


def test_tenant_pages_lose_and_repeat_nothing_under_inserts(
    platform_admin, partner_a, partner_b, versions
):
    originals = _tenants(70, partner_a, versions["current"]) + _tenants(
        30, partner_b, versions["current"], prefix="u"
    )
    added = []

    def insert(step):  # a row before the cursor and a row after it, every page
        added.append(
            TenantFactory(name=f"a-new-{step}", partner=partner_a, version=versions["old"])
        )
        added.append(
            TenantFactory(name=f"z-new-{step}", partner=partner_a, version=versions["old"])
        )

    pages, _ = _walk(
        client_for(platform_admin), "/tenants/?page_size=25", TENANT_ROW, between=insert
    )
    seen = [html.unescape(name) for page in pages for name in page]
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert {t.name for t in originals} <= set(seen), "a row was lost"
    # The rows inserted after the cursor's position appear (once); those before it do not.
    assert {t.name for t in added if t.name.startswith("z-")} <= set(seen)
    assert not {t.name for t in added if t.name.startswith("a-new-")} & set(seen[25:])
    assert seen == sorted(seen)


def test_pages_keep_sort_filter_and_partner_scope(partner_admin, partner_a, partner_b, versions):
    _tenants(60, partner_a, versions["current"], prefix="k")
    _tenants(40, partner_b, versions["current"], prefix="k")
    _tenants(10, partner_a, versions["old"], prefix="k")
    client = client_for(partner_admin)
    url = f"/tenants/?page_size=25&sort=-name&version={versions['current'].pk}"
    pages, _ = _walk(client, url, TENANT_ROW)
    seen = [html.unescape(name) for page in pages for name in page]
    expected = list(
        Tenant.objects.filter(partner=partner_a, version=versions["current"])
        .order_by("-name")
        .values_list("name", flat=True)
    )
    assert [len(p) for p in pages] == [25, 25, 10]
    assert seen == expected


def test_previous_returns_the_page_before(platform_admin, partner_a, versions):
    _tenants(60, partner_a, versions["current"])
    client = client_for(platform_admin)
    first = client.get("/tenants/?page_size=25").content.decode()
    second_query = html.unescape(NEXT.search(first).group(1))
    second = client.get(f"/tenants/?{second_query}").content.decode()
    third_query = html.unescape(NEXT.search(second).group(1))
    third = client.get(f"/tenants/?{third_query}").content.decode()
    assert "51–60 of 60" in third and "Page 3 of 3" in third
    back = client.get(f"/tenants/?{html.unescape(PREVIOUS.search(third).group(1))}")
    assert TENANT_ROW.findall(back.content.decode()) == TENANT_ROW.findall(second)
    assert "26–50 of 60" in back.content.decode()


def test_a_forged_cursor_shows_the_first_page(platform_admin, partner_a, versions):
    _tenants(30, partner_a, versions["current"])
    client = client_for(platform_admin)
    first = TENANT_ROW.findall(client.get("/tenants/?page_size=25").content.decode())
    other_order = Cursor(("earliest_start", "id"), ("2026-01-01T00:00:00+00:00", 1)).encode()
    for cursor in ["not-base64!", "e30", other_order, Cursor(("name",), ("x", "y")).encode()]:
        response = client.get(f"/tenants/?page_size=25&page=3&cursor={cursor}")
        assert response.status_code == 200
        assert TENANT_ROW.findall(response.content.decode()) == first


def test_task_pages_lose_and_repeat_nothing_under_inserts(platform_admin, partner_a, versions):
    now = timezone.now()
    tenants = _tenants(80, partner_a, versions["current"])
    for i, tenant in enumerate(tenants[:60]):
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            earliest_start=now + timezone.timedelta(minutes=i % 7),
        )
    spare = iter(tenants[60:])

    def insert(step):
        UpdateTaskFactory(
            tenant=next(spare),
            target_version=versions["new"],
            earliest_start=now + timezone.timedelta(minutes=3),
        )

    pages, _ = _walk(client_for(platform_admin), "/tasks/?page_size=25", TASK_ROW, between=insert)
    seen = [int(pk) for page in pages for pk in page]
    assert len(seen) == len(set(seen))
    from ucfleet.updates.models import UpdateTask

    assert set(UpdateTask.objects.order_by("pk").values_list("pk", flat=True)[:60]) <= set(seen)


def test_estimated_count_is_said_and_costs_fixed_queries(
    platform_admin, partner_a, versions, settings
):
    settings.UCFLEET = {**settings.UCFLEET, "EXACT_COUNT_LIMIT": 4}
    client = client_for(platform_admin)
    client.get("/tenants/")
    _tenants(6, partner_a, versions["current"])
    counts = []
    for more in (0, 44):
        _tenants(more, partner_a, versions["current"], prefix=f"m{more}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE tenants_tenant")
        with CaptureQueriesContext(connection) as ctx:
            page = client.get("/tenants/").content.decode()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    if connection.vendor == "postgresql":
        assert 'data-testid="count-estimated"' in page and "of about" in page
        assert "Page 1 of about" in page
    else:  # SQLite has no planner estimate: it counts
        assert "1–50 of 50" in page and "estimated" not in page
    settings.UCFLEET = {**settings.UCFLEET, "EXACT_COUNT_LIMIT": 10_000}
    page = client.get("/tenants/").content.decode()
    assert "1–50 of 50" in page and 'data-testid="count-estimated"' not in page
