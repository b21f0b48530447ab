"""Versions, platform maintenance, maintenance window, administrators, partners, scale units,
change log, outbox and dashboard screens."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from ucfleet.accounts.models import Administrator
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.maintenance.queries import get_window
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask
from ucfleet.versions.models import SoftwareVersion

pytestmark = pytest.mark.django_db


def _wall(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


# --- versions --------------------------------------------------------------------------------


def test_versions_show_tenant_counts_of_the_callers_scope(
    partner_client, platform_client, a_tenants, b_tenants, versions
):
    current = versions["current"]
    partner_page = partner_client.get("/versions/").content.decode()
    platform_page = platform_client.get("/versions/").content.decode()
    assert f'?version={current.pk}">3<' in partner_page
    assert f'?version={current.pk}">5<' in platform_page


def test_test_versions_are_hidden_from_partner_admins(partner_client, versions):
    assert versions["test"].name not in partner_client.get("/versions/").content.decode()


def test_platform_admin_changes_a_flag(platform_client, versions):
    version = versions["current"]
    response = platform_client.post(
        f"/versions/{version.pk}/flags/", {"recommend_update": "on"}, headers={"HX-Request": "true"}
    )
    assert 'data-testid="saved"' in response.content.decode()
    version.refresh_from_db()
    assert version.recommend_update is True


def test_partner_admin_cannot_change_flags(partner_client, versions):
    version = versions["current"]
    assert (
        partner_client.post(
            f"/versions/{version.pk}/flags/", {"update_prohibited": "on"}
        ).status_code
        == 403
    )
    assert SoftwareVersion.objects.get(pk=version.pk).update_prohibited is False


@pytest.mark.parametrize("htmx", [False, True])
def test_flags_of_a_version_the_caller_cannot_see_answer_404(
    partner_client, platform_client, versions, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    hidden = versions["test"]  # test versions do not exist for partner administrators
    data = {"for_testing": "", "use_for_new": "on"}
    response = partner_client.post(f"/versions/{hidden.pk}/flags/", data, headers=headers)
    assert response.status_code == 404
    unknown = SoftwareVersion.objects.order_by("-pk").first().pk + 1
    for client in (partner_client, platform_client):
        response = client.post(f"/versions/{unknown}/flags/", data, headers=headers)
        assert response.status_code == 404
    hidden.refresh_from_db()
    assert hidden.for_testing is True and hidden.use_for_new is False


# --- platform maintenance --------------------------------------------------------------------


def test_platform_admin_creates_maintenance_and_sees_its_conflicts(
    platform_client, a_tenants, schedule
):
    start = timezone.now() + timedelta(days=2)
    schedule(a_tenants[:2], timing="custom", start=start + timedelta(minutes=30))
    response = platform_client.post(
        "/maintenance/new/",
        {
            "start": _wall(start),
            "end": _wall(start + timedelta(hours=3)),
            "message_en": "Storage",
            "message_de": "Speicher",
        },
    )
    maintenance = PlatformMaintenance.objects.get()
    assert response["Location"] == f"/maintenance/{maintenance.pk}/"
    page = platform_client.get(response["Location"]).content.decode()
    assert "2 planned tasks conflict with this maintenance." in page
    assert all(t.name in page for t in a_tenants[:2])


def test_maintenance_with_end_before_start_is_a_field_error(platform_client):
    start = timezone.now() + timedelta(days=2)
    response = platform_client.post(
        "/maintenance/new/", {"start": _wall(start), "end": _wall(start - timedelta(hours=1))}
    )
    assert response.status_code == 200
    assert 'data-testid="error-end"' in response.content.decode()
    assert not PlatformMaintenance.objects.exists()


def test_resolving_conflicts_by_deleting_cancels_the_tasks(platform_client, a_tenants, schedule):
    start = timezone.now() + timedelta(days=2)
    tasks = schedule(a_tenants[:2], timing="custom", start=start + timedelta(minutes=30))
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=3))
    platform_client.post(f"/maintenance/{maintenance.pk}/conflicts/", {"action": "delete"})
    assert set(
        UpdateTask.objects.filter(pk__in=[t.pk for t in tasks]).values_list("status", flat=True)
    ) == {Status.CANCELLED}


def test_resolving_conflicts_by_moving_puts_tasks_after_the_maintenance(
    platform_client, a_tenants, schedule
):
    start = timezone.now() + timedelta(days=2)
    tasks = schedule(a_tenants[:1], timing="custom", start=start + timedelta(minutes=30))
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=3))
    platform_client.post(f"/maintenance/{maintenance.pk}/conflicts/", {"action": "move"})
    assert UpdateTask.objects.get(pk=tasks[0].pk).earliest_start >= maintenance.end


def test_partner_admin_cannot_create_edit_or_resolve_maintenance(partner_client):
    start = timezone.now() + timedelta(days=2)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=1))
    assert partner_client.get("/maintenance/new/").status_code == 403
    assert (
        partner_client.post(f"/maintenance/{maintenance.pk}/", {"start": _wall(start)}).status_code
        == 403
    )
    assert (
        partner_client.post(
            f"/maintenance/{maintenance.pk}/conflicts/", {"action": "delete"}
        ).status_code
        == 302
    )
    assert partner_client.post(f"/maintenance/{maintenance.pk}/delete/").status_code == 302
    assert PlatformMaintenance.objects.filter(pk=maintenance.pk).exists()


def test_platform_admin_deletes_a_maintenance(platform_client):
    start = timezone.now() + timedelta(days=2)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=1))
    platform_client.post(f"/maintenance/{maintenance.pk}/delete/")
    assert not PlatformMaintenance.objects.exists()


# --- maintenance window ----------------------------------------------------------------------


def _window_data(**overrides):
    data = {
        "time_zone": "Europe/Berlin",
        "expected_task_minutes": "30",
        "slots-TOTAL_FORMS": "1",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "1000",
        "slots-0-weekdays": ["6"],
        "slots-0-start": "01:00",
        "slots-0-duration_hours": "4",
        "slots-0-duration_minutes": "0",
    }
    data.update(overrides)
    return data


def test_platform_admin_saves_the_window(platform_client):
    response = platform_client.post("/maintenance-window/", _window_data())
    assert response.status_code == 302
    window = get_window()
    assert window.time_zone == "Europe/Berlin"
    assert [(s.weekdays, s.duration_minutes) for s in window.slots.all()] == [([6], 240)]


def test_window_without_weekdays_is_a_field_error_and_changes_nothing(platform_client):
    response = platform_client.post(
        "/maintenance-window/", _window_data(**{"slots-0-weekdays": []})
    )
    assert "Choose at least one weekday." in response.content.decode()
    assert not get_window().slots.exists()


def test_window_preview_shows_occurrences_before_saving(platform_client):
    response = platform_client.post(
        "/maintenance-window/preview/", _window_data(time_zone="America/New_York")
    )
    page = response.content.decode()
    assert "America/New_York" in page and page.count("<li>") == 8 and "Sun" in page
    assert not get_window().slots.exists()


def test_partner_admin_sees_the_window_but_cannot_save_it(partner_client):
    assert partner_client.get("/maintenance-window/").status_code == 200
    assert partner_client.post("/maintenance-window/", _window_data()).status_code == 403


# --- administrators, partners, scale units -----------------------------------------------------


def test_advanced_partner_admin_creates_an_administrator_for_its_partner(
    advanced_partner_admin, partner_a
):
    from tests.web.conftest import client_for

    client = client_for(advanced_partner_admin)
    page = client.get("/administrators/new/").content.decode()
    assert "platform_advanced" not in page and 'name="partner"' not in page
    response = client.post(
        "/administrators/new/",
        {
            "username": "alpha-new",
            "password": "a-long-enough-password",
            "profile": "partner",
            "language": "de",
            "email": "new@alpha.example",
        },
    )
    assert response.status_code == 302
    created = Administrator.objects.get(username="alpha-new")
    assert created.partner_id == partner_a.pk and created.language == "de"


def test_plain_partner_admin_manages_nobody(partner_client, partner_admin, advanced_partner_admin):
    assert partner_client.get("/administrators/new/").status_code == 403
    assert partner_client.get(f"/administrators/{advanced_partner_admin.pk}/").status_code == 403
    assert partner_client.get(f"/administrators/{partner_admin.pk}/").status_code == 200


def test_partner_admin_sees_only_its_partners_administrators(
    partner_client, partner_b_admin, advanced_partner_admin
):
    page = partner_client.get("/administrators/").content.decode()
    assert advanced_partner_admin.username in page and partner_b_admin.username not in page
    assert partner_client.get(f"/administrators/{partner_b_admin.pk}/").status_code == 404


def test_short_password_is_a_field_error(advanced_platform_admin):
    from tests.web.conftest import client_for

    response = client_for(advanced_platform_admin).post(
        "/administrators/new/",
        {"username": "x", "password": "short", "profile": "platform", "language": "en"},
    )
    assert 'data-testid="error-password"' in response.content.decode()
    assert not Administrator.objects.filter(username="x").exists()


def test_partners_and_scale_units_lists_are_scoped(
    partner_client, a_tenants, b_tenants, partner_a, partner_b, scale_unit
):
    page = partner_client.get("/partners/").content.decode()
    assert partner_a.name in page and partner_b.name not in page
    page = partner_client.get("/scale-units/").content.decode()
    assert scale_unit.name in page
    assert partner_client.get("/partners/new/").status_code == 403


def test_partner_and_scale_unit_counts_are_of_the_callers_scope(
    platform_client, partner_client, a_tenants, b_tenants, partner_a, partner_b, scale_unit
):
    """The counts are subqueries per listed row (core.subquery): a partner counts only its
    own tenants and running updates on a shared scale unit (R1)."""
    from tests.factories import UpdateTaskFactory

    for tenant in (a_tenants[0], b_tenants[0], b_tenants[1]):
        UpdateTaskFactory(tenant=tenant, status=Status.IN_PROGRESS)
    UpdateTaskFactory(tenant=a_tenants[1], status=Status.PLANNED)

    def units(client):
        return {
            u.name: (u.tenant_count, u.running)
            for u in client.get("/scale-units/").context["units"]
        }

    assert units(platform_client)[scale_unit.name] == (5, 3)
    assert units(partner_client) == {scale_unit.name: (3, 1)}
    listed = platform_client.get("/partners/").context["partners"]
    counts = {p.name: (p.tenant_count, p.admin_count) for p in listed}
    assert counts[partner_a.name][0] == 3 and counts[partner_b.name][0] == 2
    assert counts[partner_a.name][1] == Administrator.objects.filter(partner=partner_a).count()
    assert [p.name for p in partner_client.get("/partners/").context["partners"]] == [
        partner_a.name
    ]


def test_platform_admin_creates_partner_and_scale_unit(platform_client):
    platform_client.post("/partners/new/", {"name": "Delta", "language": "de", "is_active": "on"})
    platform_client.post("/scale-units/new/", {"name": "muc-1", "max_concurrent_tasks": "4"})
    assert "Delta" in platform_client.get("/partners/").content.decode()
    assert "muc-1" in platform_client.get("/scale-units/").content.decode()


def test_duplicate_partner_name_is_a_field_error(platform_client, partner_a):
    response = platform_client.post("/partners/new/", {"name": partner_a.name, "language": "en"})
    assert 'data-testid="error-name"' in response.content.decode()


# --- change log, outbox, dashboard ---------------------------------------------------------------


def test_change_log_filters_and_exports_csv(
    platform_client, partner_client, a_tenants, b_tenants, schedule
):
    schedule(a_tenants[:1])
    schedule(b_tenants[:1])
    page = platform_client.get("/change-log/?object_type=update_request").content.decode()
    assert "update_request" in page
    response = partner_client.get("/change-log/?format=csv&user=plat")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time", "user", "action"]
    # Partner A's entries only (R1): its request's tasks and its rollout, not partner B's.
    assert len(rows) == 3
    assert {row[3] for row in rows[1:]} == {"update_request", "rollout"}
    assert response["Content-Type"].startswith("text/csv")


def test_change_log_date_filter(platform_client, platform_admin):
    ChangeLogEntry.objects.create(
        at=timezone.now() - timedelta(days=10),
        actor_name="old",
        action="update",
        object_type="tenant",
        object_id="1",
    )
    ChangeLogEntry.objects.create(
        at=timezone.now(), actor_name="new", action="update", object_type="tenant", object_id="2"
    )
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    page = platform_client.get(f"/change-log/?date_from={since}").content.decode()
    assert ">new<" in page and ">old<" not in page


def test_outbox_lists_the_emails_of_the_callers_partner(
    partner_client, partner_admin, a_tenants, b_tenants, partner_b_admin, schedule
):
    schedule(a_tenants[:1], notify_partner=True)
    schedule(b_tenants[:1], notify_partner=True)
    page = partner_client.get("/outbox/").content.decode()
    assert partner_admin.email in page and partner_b_admin.email not in page


def test_dashboard_counts_and_chart(platform_client, a_tenants, schedule):
    schedule(a_tenants[:2], timing="custom", start=timezone.now() + timedelta(days=2))
    page = platform_client.get("/").content.decode()
    assert 'data-testid="planned-chart"' in page
    assert 'data-value="2"' in page
    assert "2 planned tasks in the coming days" in page


def test_platform_admin_sends_a_failed_email_again_partner_admin_cannot(
    platform_client, partner_client, a_tenants, schedule
):
    from ucfleet.notifications.models import Notification

    schedule(a_tenants[:1], notify_partner=True)
    note = Notification.objects.first()
    Notification.objects.filter(pk=note.pk).update(status="failed", last_error="SMTP down")
    assert 'data-testid="send-again"' in platform_client.get("/outbox/").content.decode()
    assert 'data-testid="send-again"' not in partner_client.get("/outbox/").content.decode()
    partner_client.post(f"/outbox/{note.pk}/retry/")
    assert Notification.objects.get(pk=note.pk).status == "failed"
    platform_client.post(f"/outbox/{note.pk}/retry/")
    assert Notification.objects.get(pk=note.pk).status == "queued"


def test_platform_admin_edits_partner_and_partner_admin_cannot(
    platform_client, partner_client, partner_a, partner_b
):
    from ucfleet.audit.models import ChangeLogEntry

    url = f"/partners/{partner_a.pk}/edit/"
    assert partner_client.get(url).status_code == 403
    assert partner_client.get(f"/partners/{partner_b.pk}/edit/").status_code == 404
    page = platform_client.get("/partners/").content.decode()
    assert url in page
    response = platform_client.post(url, {"name": "Alpha Telecom AG", "language": "de"})
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert (partner_a.name, partner_a.language, partner_a.is_active) == (
        "Alpha Telecom AG",
        "de",
        False,
    )
    assert ChangeLogEntry.objects.filter(
        object_type="partner", field="name", new="Alpha Telecom AG"
    ).exists()


def test_renaming_partner_to_a_taken_name_is_a_field_error(platform_client, partner_a, partner_b):
    response = platform_client.post(
        f"/partners/{partner_a.pk}/edit/", {"name": partner_b.name, "language": "en"}
    )
    assert 'data-testid="error-name"' in response.content.decode()
    partner_a.refresh_from_db()
    assert partner_a.name == "Alpha Telecom"


def test_change_log_csv_escapes_cells_a_spreadsheet_would_run(partner_client, a_tenants):
    # A description typed in the portal reaches the export through the change log.
    tenant = a_tenants[0]
    formula = '=HYPERLINK("http://evil.example","x")'
    response = partner_client.post(
        f"/tenants/{tenant.pk}/",
        {"name": tenant.name, "domain": tenant.domain, "description": formula, "is_active": "on"},
    )
    assert response.status_code == 302
    response = partner_client.get("/change-log/?format=csv&object_type=tenant")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    description = next(row for row in rows[1:] if row[5] == "description")
    assert description[7] == "'" + formula
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_change_log_date_to_on_the_last_day_of_the_calendar(platform_client, sunday_window):
    # 9999-12-31 has no next day; 0001-01-01 starts before datetime's range east of UTC
    # (the window's zone is Europe/Berlin). Both still filter, and never answer 500.
    ChangeLogEntry.objects.create(
        at=timezone.now(), actor_name="kept", action="update", object_type="tenant", object_id="1"
    )
    for query in ("date_to=9999-12-31", "date_from=0001-01-01&date_to=9999-12-31"):
        response = platform_client.get(f"/change-log/?{query}")
        assert response.status_code == 200, query
        assert ">kept<" in response.content.decode()
    page = platform_client.get("/change-log/?date_from=9999-12-31&date_to=9999-12-31")
    assert page.status_code == 200 and ">kept<" not in page.content.decode()
    assert platform_client.get("/change-log/?date_to=0001-01-01").status_code == 200
    export = platform_client.get("/change-log/?format=csv&date_to=9999-12-31")
    assert "kept" in b"".join(export.streaming_content).decode()
