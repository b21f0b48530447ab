"""Benchmark: the tenant list, the task list and their API endpoints at 1,000,000 rows.

For each page (first page, a page by cursor in the middle of the list, the partner
administrator's view): p50/p95 of the whole request (Django's test client: middleware,
session, scope, template or serializer), the number of queries, and p50/p95 of the page's
raw query (the SQL that reads the page's rows, run on the same connection with a plain
cursor) — the ratio of the two p50s beside it (aim ≤ 3). The searches of both lists are
pages too. For comparison, the naive page (COUNT(*) + OFFSET) of the same rows in the
middle of the list, and the floor of any portal page: an authenticated request (session,
middleware, the maintenance check) to a view that does nothing, added here for the bench.
Then the other pages that count or aggregate tenants and tasks (partners, scale units,
versions, the wizard, the dashboard), p50/p95 and queries, for both kinds of administrator.

Uses the database as `ucfleet seed-scale --tenants N --tasks` left it (and seeds it first when
it holds no tenants):

    UCFLEET_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ucfleet_scale_1m \
        .venv/bin/python bench/lists.py [--samples 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
os.environ.setdefault("UCFLEET_DATA_DIR", tempfile.mkdtemp(prefix="ucfleet-bench-"))


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(fn: Callable[[], Any], samples: int) -> list[float]:
    fn()  # warm: caches, prepared plans
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def rows_query(captured: list[dict[str, Any]]) -> str:
    """The query that read the page's rows: the one with a LIMIT that is not a count."""
    candidates = [
        q["sql"] for q in captured if " LIMIT " in q["sql"] and "COUNT(" not in q["sql"].upper()
    ]
    return max(candidates, key=len)


def measure(client: Any, url: str, samples: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seen: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    # The test client resets Django's query log at each request: count with a wrapper.
    with connection.execute_wrapper(count), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    sql = rows_query(ctx.captured_queries)
    request_ms = timed(lambda: client.get(url), samples)

    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    raw_ms = timed(raw, samples)
    return {
        "url": url,
        "queries": len(seen),
        "request": percentiles(request_ms),
        "raw": percentiles(raw_ms),
        "estimated": b"estimated" in response.content
        or b'"count_estimated":true' in response.content,
    }


def page_figures(client: Any, url: str, samples: int) -> tuple[int, tuple[float, float]]:
    """(queries, p50/p95 ms) of a page without a rows query of its own to compare with."""
    from django.db import connection

    seen: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen), percentiles(timed(lambda: client.get(url), samples))


def install_floor_view() -> str:
    """A URL for a login-required view that returns at once, beside the portal's own (a
    urlconf of this bench's, not of the product): the fixed cost of every portal page."""
    import types

    from django.conf import settings
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType("bench_lists_urls")
    view = login_required(lambda request: HttpResponse("ok"))
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench-floor/", view),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()
    return "/bench-floor/"


def naive_page(sql_count: str, sql_rows: str, samples: int) -> tuple[float, float]:
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql_count)
            cursor.fetchall()
            cursor.execute(sql_rows)
            cursor.fetchall()

    return percentiles(timed(run, samples))


def middle_cursor(queryset: Any) -> str:
    """A cursor at the middle row of `queryset`'s order, as the Next links make them."""
    from ucfleet.core.paging import Cursor, _ordering

    order = _ordering(queryset)
    count = queryset.count()
    row = queryset.values_list(*[f for f, _ in order])[count // 2]
    given = tuple(str(o) for o in queryset.query.order_by)
    return Cursor(
        given, tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row)
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--tenants", type=int, default=1_000_000, help="seeded when empty")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from ucfleet.accounts.choices import Profile
    from ucfleet.accounts.models import Administrator
    from ucfleet.scale_seed import seed_scale
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.updates.models import UpdateTask

    if not Tenant.objects.exists():
        seed_scale(tenants=args.tenants, tasks=True)
    platform = Administrator.objects.filter(username="lists-bench").first() or (
        Administrator.objects.create_user(
            username="lists-bench", password="x-bench-1", profile=Profile.PLATFORM
        )
    )
    biggest = Partner.objects.order_by("name").first()
    assert biggest is not None
    partner = Administrator.objects.filter(username="lists-bench-partner").first() or (
        Administrator.objects.create_user(
            username="lists-bench-partner",
            password="x-bench-1",
            profile=Profile.PARTNER,
            partner=biggest,
        )
    )
    tenants = Tenant.objects.count()
    tasks = UpdateTask.objects.count()
    print(f"{connection.vendor}: {tenants:,} tenants, {tasks:,} tasks; {args.samples} samples each")

    from ucfleet.tenants.queries import tenants_visible_to
    from ucfleet.updates.queries import tasks_visible_to

    tenant_middle = middle_cursor(tenants_visible_to(platform).order_by("name"))
    task_middle = middle_cursor(
        tasks_visible_to(platform)
        .filter(task_type="update")
        .exclude(status="cancelled")
        .order_by("earliest_start", "id")
    )
    api_task_middle = middle_cursor(tasks_visible_to(platform).order_by("earliest_start", "id"))
    api_tenant_middle = middle_cursor(tenants_visible_to(platform).order_by("name", "id"))
    pages = [
        (platform, "/tenants/"),
        (platform, f"/tenants/?page=2&cursor={tenant_middle}"),
        (platform, "/tenants/?sort=partner"),
        (platform, "/tenants/?q=alpha-00165"),
        (platform, "/tenants/?q=zqx"),  # matches nothing
        (partner, "/tenants/"),
        (platform, "/tasks/"),
        (platform, f"/tasks/?page=2&cursor={task_middle}"),
        (platform, "/tasks/?status=failed"),
        (platform, "/tasks/?q=alpha-001"),
        (platform, "/tasks/?q=zqx"),
        (partner, "/tasks/"),
        (platform, "/api/v1/tenants/"),
        (platform, f"/api/v1/tenants/?cursor={api_tenant_middle}"),
        (platform, "/api/v1/tenants/?search=alpha-00165"),
        (partner, "/api/v1/tenants/"),
        (platform, "/api/v1/update-tasks/"),
        (platform, f"/api/v1/update-tasks/?cursor={api_task_middle}"),
        (partner, "/api/v1/update-tasks/"),
    ]
    clients: dict[int, Any] = {}
    print(
        f"{'page':<58} {'who':<8} {'q':>3} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'raw p50':>8} {'raw p95':>8} {'ratio':>6}  count"
    )
    worst = 0.0
    for admin, url in pages:
        if admin.pk not in clients:
            clients[admin.pk] = Client()
            clients[admin.pk].force_login(admin)
        figures = measure(clients[admin.pk], url, args.samples)
        ratio = figures["request"][0] / figures["raw"][0]
        worst = max(worst, ratio)
        shown = url if len(url) < 56 else url[:45] + "…(cursor)"
        print(
            f"{shown:<58} {admin.profile:<8} {figures['queries']:>3} "
            f"{figures['request'][0]:>8.1f} {figures['request'][1]:>8.1f} "
            f"{figures['raw'][0]:>8.2f} {figures['raw'][1]:>8.2f} {ratio:>6.1f}  "
            f"{'estimated' if figures['estimated'] else 'exact'}"
        )
    table = connection.ops.quote_name(Tenant._meta.db_table)
    naive = naive_page(
        f"SELECT COUNT(*) FROM {table}",
        f"SELECT * FROM {table} ORDER BY name LIMIT 50 OFFSET {tenants // 2}",
        max(3, args.samples // 10),
    )
    print(
        f"naive tenant page in the middle (COUNT(*) + OFFSET {tenants // 2:,}): "
        f"p50 {naive[0]:.0f} ms, p95 {naive[1]:.0f} ms"
    )
    floor_url = install_floor_view()
    floor = page_figures(clients[platform.pk], floor_url, args.samples)
    print(
        f"floor, an authenticated request to a view that does nothing: {floor[0]} queries, "
        f"p50 {floor[1][0]:.1f} ms, p95 {floor[1][1]:.1f} ms"
    )
    print(f"worst ratio request/raw: {worst:.1f}  (aim: ≤ 3)")
    print(f"\n{'other pages':<58} {'who':<8} {'q':>3} {'p50 ms':>8} {'p95 ms':>8}")
    for admin in (platform, partner):
        for url in ("/partners/", "/scale-units/", "/versions/", "/api/v1/versions/"):
            queries, (p50, p95) = page_figures(clients[admin.pk], url, args.samples)
            print(f"{url:<58} {admin.profile:<8} {queries:>3} {p50:>8.1f} {p95:>8.1f}")
        for url in ("/updates/new/", "/"):
            queries, (p50, p95) = page_figures(clients[admin.pk], url, max(3, args.samples // 3))
            print(f"{url:<58} {admin.profile:<8} {queries:>3} {p50:>8.1f} {p95:>8.1f}")
    load = os.getloadavg()
    print(f"load: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    sys.exit(main())
