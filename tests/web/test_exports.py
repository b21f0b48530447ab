"""CSV exports of the task and tenant lists: what the list's filters and sort show, only
the administrator's own partner's rows, formula-safe, and read in keyset chunks in order."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.factories import TenantFactory, UpdateTaskFactory
from tests.web.conftest import client_for
from ucfleet.audit import exports as audit_exports
from ucfleet.updates.choices import Status, TaskType
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="ucfleet-')
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def fleet(partner_a, partner_b, versions):
    now = timezone.now()
    a = [
        TenantFactory(partner=partner_a, version=versions["current"], name=f"a-{i}")
        for i in range(5)
    ]
    b = [
        TenantFactory(partner=partner_b, version=versions["current"], name=f"b-{i}")
        for i in range(3)
    ]
    statuses = [Status.PLANNED, Status.FAILED, Status.EXECUTED, Status.PLANNED, Status.CANCELLED]
    for i, tenant in enumerate(a):
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            status=statuses[i],
            earliest_start=now + timedelta(hours=i),
            failure_reason='=HYPERLINK("http://evil","x")' if i == 1 else "",
        )
    for tenant in b:
        UpdateTaskFactory(tenant=tenant, target_version=versions["new"])
    UpdateTaskFactory(
        tenant=TenantFactory(partner=partner_a, version=versions["current"], name="a-recreate"),
        target_version=versions["current"],
        task_type=TaskType.RECREATE,
    )
    return a, b


def test_a_partner_admin_exports_only_its_own_tasks(fleet, partner_admin):
    rows = read_csv(client_for(partner_admin).get("/tasks/export/"))
    # The update list: partner A's update tasks, cancelled ones hidden as the list hides them.
    assert [r["tenant"] for r in rows] == ["a-0", "a-1", "a-2", "a-3"]
    assert {r["partner"] for r in rows} == {"Alpha Telecom"}
    assert rows[0]["status"] == "planned" and rows[0]["target_version"] == "14.10"
    # A partner id in the query string narrows, never widens (R1).
    forged = client_for(partner_admin).get(f"/tasks/export/?partner={fleet[1][0].partner_id}")
    forged_rows = read_csv(forged)
    assert {r["partner"] for r in forged_rows} <= {"Alpha Telecom"}
    listed = client_for(partner_admin).get(f"/tasks/?partner={fleet[1][0].partner_id}")
    assert [int(r["id"]) for r in forged_rows] == [t.pk for t in listed.context["tasks"]]


def test_the_export_honours_the_lists_filters_and_sort(fleet, platform_admin):
    client = client_for(platform_admin)
    failed = read_csv(client.get("/tasks/export/?status=failed"))
    assert [r["tenant"] for r in failed] == ["a-1"]
    by_tenant = read_csv(client.get("/tasks/export/?sort=-tenant"))
    assert [r["tenant"] for r in by_tenant] == sorted(
        ["a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2"], reverse=True
    )
    all_types = read_csv(client.get("/tasks/all/export/?task_type=recreate"))
    assert [(r["tenant"], r["task_type"]) for r in all_types] == [("a-recreate", "recreate")]
    searched = read_csv(client.get("/tasks/export/?q=b-1"))
    assert [r["tenant"] for r in searched] == ["b-1"]


def test_cells_that_would_be_formulas_are_exported_as_text(fleet, platform_admin):
    rows = read_csv(client_for(platform_admin).get("/tasks/export/?status=failed"))
    assert rows[0]["failure_reason"] == '\'=HYPERLINK("http://evil","x")'


def test_times_are_server_time_with_their_offset(fleet, platform_admin, sunday_window):
    rows = read_csv(client_for(platform_admin).get("/tasks/export/?status=failed"))
    task = UpdateTask.objects.get(status=Status.FAILED)
    assert rows[0]["start"] == task.earliest_start.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    assert rows[0]["start"][-6:] in ("+01:00", "+02:00")


def test_a_partner_admin_exports_only_its_own_tenants_with_the_filters(fleet, partner_admin):
    client = client_for(partner_admin)
    rows = read_csv(client.get("/tenants/export/"))
    assert [r["name"] for r in rows] == ["a-0", "a-1", "a-2", "a-3", "a-4", "a-recreate"]
    assert {r["partner"] for r in rows} == {"Alpha Telecom"}
    scheduled = read_csv(client.get("/tenants/export/?marker=scheduled"))
    assert [r["name"] for r in scheduled] == ["a-0", "a-3", "a-recreate"]
    assert {r["update_scheduled"] for r in scheduled} == {"true"}
    assert read_csv(client.get("/tenants/export/?q=b-")) == []


def test_keyset_chunks_return_every_row_once_in_the_lists_order(fleet, platform_admin, monkeypatch):
    monkeypatch.setattr(audit_exports, "CHUNK_ROWS", 2)  # many chunk boundaries, ties included
    client = client_for(platform_admin)
    for sort in ("start", "-start", "tenant", "-tenant", "status", "-status", "partner"):
        rows = read_csv(client.get(f"/tasks/all/export/?sort={sort}"))
        listed = client.get(f"/tasks/all/?sort={sort}")
        expected = [t.pk for t in listed.context["tasks"]]
        assert [int(r["id"]) for r in rows] == expected, sort
    for sort in ("name", "-partner", "version", "-domain"):
        rows = read_csv(client.get(f"/tenants/export/?sort={sort}"))
        listed = client.get(f"/tenants/?sort={sort}")
        assert [int(r["id"]) for r in rows] == [t.pk for t in listed.context["tenants"]], sort


def test_exports_need_a_login(db):
    from django.test import Client

    for url in ("/tasks/export/", "/tasks/all/export/", "/tenants/export/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(("language", "label"), [("en", "Export CSV"), ("de", "CSV exportieren")])
def test_the_lists_link_their_export_with_the_current_filters(
    fleet, platform_admin, language, label
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    client = client_for(platform_admin)
    tasks = client.get("/tasks/?status=failed&sort=-start").content.decode()
    assert 'href="/tasks/export/?status=failed&amp;sort=-start"' in tasks
    assert label in tasks
    tenants = client.get("/tenants/?q=a-").content.decode()
    assert 'href="/tenants/export/?q=a-"' in tenants and label in tenants
    everything = client.get("/tasks/all/").content.decode()
    assert 'href="/tasks/all/export/?"' in everything
