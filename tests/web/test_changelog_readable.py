"""The change log names objects (with links) and shows values in the viewer's language
(R31: names, links, localized values; single entries here, bulk lines in
test_changelog_groups)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.web.conftest import client_for
from ucfleet.audit.services import Change, record
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(a_tenants, b_tenants, schedule, platform_admin, partner_a, partner_b):
    [own_task] = schedule([a_tenants[0]])
    [foreign_task] = schedule([b_tenants[0]])
    # Three separate edits: each is a line of its own (a bulk action is one line).
    record(
        platform_admin,
        Change(
            "update",
            "update_task",
            own_task.pk,
            "status",
            Status.PLANNED,
            Status.FAILED,
            partner_id=partner_a.pk,
        ),
    )
    record(
        platform_admin,
        Change(
            "update",
            "tenant",
            a_tenants[1].pk,
            "auto_update_allowed",
            True,
            False,
            partner_id=partner_a.pk,
        ),
    )
    record(
        platform_admin,
        Change(
            "update",
            "update_task",
            foreign_task.pk,
            "status",
            Status.PLANNED,
            Status.EXECUTED,
            partner_id=partner_b.pk,
        ),
    )
    return own_task, foreign_task


@pytest.mark.parametrize(
    ("language", "status", "no", "object_type"),
    [("en", "failed", "no", "UC tenant"), ("de", "fehlgeschlagen", "nein", "UC-Tenant")],
)
def test_entries_show_names_links_and_values_in_the_viewers_language(
    entries, a_tenants, platform_admin, language, status, no, object_type
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    page = client_for(platform_admin).get("/change-log/").content.decode()
    own_task, _ = entries
    tenant = own_task.tenant
    assert f'<a href="/tenants/{tenant.pk}/">{tenant.name} → 14.10</a>' in page
    assert f'<a href="/tenants/{a_tenants[1].pk}/">{a_tenants[1].name}</a>' in page
    assert f'<td class="small">{status}</td>' in page
    assert f'<td class="small">{no}</td>' in page
    assert object_type in page


def test_a_partner_admin_sees_only_its_own_names(entries, partner_admin, b_tenants):
    page = client_for(partner_admin).get("/change-log/").content.decode()
    own_task, _foreign = entries
    assert own_task.tenant.name in page
    assert b_tenants[0].name not in page


def test_names_cost_one_query_per_object_type_not_per_entry(
    entries, a_tenants, platform_admin, partner_a
):
    client = client_for(platform_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/change-log/").status_code == 200
        return len(captured)

    queries()  # the first request of a client reads once-per-session things
    before = queries()
    record(
        platform_admin,
        *[
            Change("update", "tenant", t.pk, "is_active", True, False, partner_id=partner_a.pk)
            for t in a_tenants
        ],
    )
    assert queries() == before


def test_the_csv_has_the_same_names_and_values_in_server_time(
    entries, platform_admin, sunday_window
):
    import csv
    import io
    from zoneinfo import ZoneInfo

    from ucfleet.audit.models import ChangeLogEntry

    platform_admin.language = "de"
    platform_admin.save(update_fields=["language"])
    response = client_for(platform_admin).get("/change-log/?format=csv&object_type=update_task")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    own_task, foreign_task = entries
    by_id = {r["object_id"]: r for r in rows if r["field"] == "status"}
    assert by_id[str(own_task.pk)]["object"] == f"{own_task.tenant.name} → 14.10"
    assert by_id[str(own_task.pk)]["new"] == "fehlgeschlagen"
    assert by_id[str(foreign_task.pk)]["new"] == "ausgeführt"
    entry = ChangeLogEntry.objects.get(object_id=str(own_task.pk), field="status")
    assert (
        by_id[str(own_task.pk)]["time"]
        == entry.at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    )
