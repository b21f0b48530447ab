"""Every list page costs a fixed number of queries, whatever its length (5 rows = 50 rows),
and that number is its baseline in tests/query_baselines.json."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    AdministratorFactory,
    PartnerFactory,
    ScaleUnitFactory,
    TenantFactory,
    UpdateTaskFactory,
    VersionFactory,
)
from tests.query_baselines import expect_queries
from tests.web.conftest import client_for
from ucfleet.accounts.choices import Profile
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db

STATUSES = [Status.PLANNED, Status.IN_PROGRESS, Status.FAILED, Status.EXECUTED]


def _tasks(n, partner, versions, *, start=None):
    tenants = TenantFactory.create_batch(
        n,
        partner=partner,
        version=versions["current"],
        is_test=True,
        test_until=timezone.localdate(),
    )
    for i, tenant in enumerate(tenants):
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            status=STATUSES[i % 4] if start is None else Status.PLANNED,
            earliest_start=start or timezone.now() + timedelta(days=i % 10),
            finished=timezone.now(),
            started=timezone.now(),
            is_forced=i % 2 == 0,
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _same_count(admin, url, build, *, key: str | None = None) -> None:
    client = client_for(admin)
    client.get(url)  # first request creates the window row and settles the session
    build(5)
    small = _queries(client, url)
    build(45)  # 50 in all
    large = _queries(client, url)
    assert small == large, f"{url}: {small} queries with 5 rows, {large} with 50"
    expect_queries(f"web {key or url} as {admin.profile}", large)


LIST_PAGES = ["/tasks/", "/tasks/all/", "/tasks/?status=planned", "/"]


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("who", ["platform_admin", "partner_admin"])
def test_task_pages_cost_fixed_queries(url, who, request, partner_a, versions):
    admin = request.getfixturevalue(who)
    _same_count(admin, url, lambda n: _tasks(n, partner_a, versions))


@pytest.mark.parametrize(
    "url", ["/tenants/", "/tenants/?marker=scheduled", "/updates/new/", "/tenants/?q=tenant"]
)
@pytest.mark.parametrize("who", ["platform_admin", "partner_admin"])
def test_tenant_pages_cost_fixed_queries(url, who, request, partner_a, partner_b, versions):
    """partner_b: the platform sees two partners (the wizard then opens no partner group by
    itself), a partner administrator one (its group opens), whatever ran before."""
    admin = request.getfixturevalue(who)
    _same_count(admin, url, lambda n: _tasks(n, partner_a, versions))


def test_wizard_partner_group_costs_fixed_queries(platform_admin, partner_a, versions):
    _same_count(
        platform_admin,
        f"/updates/new/partners/{partner_a.pk}/",
        lambda n: _tasks(n, partner_a, versions),
        key="/updates/new/partners/<id>/",
    )


def test_wizard_with_many_partners_costs_fixed_queries(platform_admin, versions):
    _same_count(
        platform_admin,
        "/updates/new/",
        lambda n: [
            TenantFactory(partner=PartnerFactory(), version=versions["current"]) for _ in range(n)
        ],
    )


def test_versions_page_costs_fixed_queries(platform_admin, partner_a):
    def build(n):
        for _ in range(n):
            TenantFactory(partner=partner_a, version=VersionFactory())

    _same_count(platform_admin, "/versions/", build)


def test_partners_page_costs_fixed_queries(platform_admin, versions):
    def build(n):
        for _ in range(n):
            partner = PartnerFactory()
            TenantFactory(partner=partner, version=versions["current"])
            AdministratorFactory(profile=Profile.PARTNER, partner=partner)

    _same_count(platform_admin, "/partners/", build)


@pytest.mark.parametrize("who", ["platform_admin", "advanced_partner_admin"])
def test_administrators_page_costs_fixed_queries(who, request, partner_a):
    admin = request.getfixturevalue(who)
    _same_count(
        admin,
        "/administrators/",
        lambda n: AdministratorFactory.create_batch(n, profile=Profile.PARTNER, partner=partner_a),
    )


def test_scale_units_page_costs_fixed_queries(partner_admin, partner_a, versions):
    def build(n):
        for _ in range(n):
            TenantFactory(
                partner=partner_a, version=versions["current"], scale_unit=ScaleUnitFactory()
            )

    _same_count(partner_admin, "/scale-units/", build)


def test_change_log_page_costs_fixed_queries(partner_admin, partner_a):
    _same_count(
        partner_admin,
        "/change-log/",
        lambda n: ChangeLogEntry.objects.bulk_create(
            ChangeLogEntry(
                at=timezone.now(),
                actor_name="x",
                action="update",
                object_type="tenant",
                object_id=str(i),
                partner=partner_a,
            )
            for i in range(n)
        ),
    )


def test_outbox_page_costs_fixed_queries(partner_admin, partner_a, versions):
    from ucfleet.updates.models import UpdateTask

    def build(n):
        _tasks(n, partner_a, versions)
        for i, task in enumerate(UpdateTask.objects.order_by("-pk")[:n]):
            note = Notification.objects.create(
                kind="created_partner",
                partner=partner_a,
                recipients=["a@x.example"],
                language="en",
                subject="s",
                body="b",
                next_attempt_at=timezone.now(),
                created=timezone.now(),
                idempotency_key=f"k-{n}-{i}",
            )
            note.tasks.set([task])

    _same_count(partner_admin, "/outbox/", build)


def test_maintenance_pages_cost_fixed_queries(platform_admin, partner_a, versions):
    start = timezone.now() + timedelta(days=3)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=4))

    def build(n):
        _tasks(n, partner_a, versions, start=start + timedelta(minutes=10))
        PlatformMaintenance.objects.bulk_create(
            PlatformMaintenance(
                start=timezone.now() - timedelta(days=i + 2),
                end=timezone.now() - timedelta(days=i + 1),
            )
            for i in range(n)
        )

    client = client_for(platform_admin)
    client.get("/maintenance/")
    build(5)
    small = (_queries(client, "/maintenance/"), _queries(client, f"/maintenance/{maintenance.pk}/"))
    build(45)
    large = (_queries(client, "/maintenance/"), _queries(client, f"/maintenance/{maintenance.pk}/"))
    assert small == large
    expect_queries("web /maintenance/ as platform", large[0])
    expect_queries("web /maintenance/<id>/ as platform", large[1])


def test_status_poll_costs_fixed_queries(partner_admin, partner_a, versions):
    from ucfleet.updates.models import UpdateTask

    client = client_for(partner_admin)
    client.get("/tasks/statuses/")
    _tasks(5, partner_a, versions)
    ids = ",".join(str(pk) for pk in UpdateTask.objects.values_list("pk", flat=True))
    small = _queries(client, f"/tasks/statuses/?ids={ids}")
    _tasks(45, partner_a, versions)
    ids = ",".join(str(pk) for pk in UpdateTask.objects.values_list("pk", flat=True))
    large = _queries(client, f"/tasks/statuses/?ids={ids}")
    assert large == small
    expect_queries("web /tasks/statuses/?ids=… as partner", large)
