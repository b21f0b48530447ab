"""A bulk action reads as one line of the change log — "rescheduled 5 tasks" — with a
drill-down to its entries, in the page, its CSV and the API (R31); a partner administrator's
line counts its own entries only (R1)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from tests.web.conftest import client_for
from tests.web.rollout_fixtures import rollout  # noqa: F401 (fixture)
from ucfleet.audit.models import ChangeLogEntry
from ucfleet.audit.services import Change, record
from ucfleet.core.timeutils import format_server_time
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.services import reschedule_tasks
from ucfleet.web.changelog_lines import summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def rescheduled(a_tenants, b_tenants, schedule, platform_admin):
    """3 tasks of partner A and 2 of partner B moved in one bulk action."""
    tasks = schedule([*a_tenants, *b_tenants])
    start = (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0)
    result = reschedule_tasks(
        platform_admin, [t.pk for t in tasks], start=start, notify_partner=False
    )
    assert len(result.done) == 5
    [group] = set(
        ChangeLogEntry.objects.filter(action="reschedule").values_list("group", flat=True)
    )
    assert group
    return group


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("language", "words", "entries"),
    [("en", "rescheduled 5 tasks", "5 entries"), ("de", "5 Aufgaben verschoben", "5 Einträge")],
)
def test_a_bulk_action_is_one_line_with_a_drill_down(
    rescheduled, platform_admin, a_tenants, b_tenants, language, words, entries
):
    platform_admin.language = language
    platform_admin.save(update_fields=["language"])
    client = client_for(platform_admin)
    page = client.get("/change-log/?action=reschedule").content.decode()
    assert page.count('data-testid="changelog-bulk"') == 1
    assert words in page and entries in page
    assert f'href="/change-log/?group={rescheduled}"' in page
    assert a_tenants[0].name not in page  # one line, not one per task
    drill = client.get(f"/change-log/?group={rescheduled}").content.decode()
    assert words in drill  # the heading
    for tenant in (*a_tenants, *b_tenants):
        assert f'<a href="/tenants/{tenant.pk}/">{tenant.name} → 14.10</a>' in drill


def test_a_partner_admin_sees_its_own_part_of_a_bulk_line(
    rescheduled, partner_admin, a_tenants, b_tenants
):
    client = client_for(partner_admin)
    page = client.get("/change-log/?action=reschedule").content.decode()
    assert "rescheduled 3 tasks" in page and "3 entries" in page
    drill = client.get(f"/change-log/?group={rescheduled}").content.decode()
    assert all(t.name in drill for t in a_tenants)
    assert not any(t.name in drill for t in b_tenants)
    rows = _csv(client.get(f"/change-log/?group={rescheduled}&format=csv"))
    assert len(rows) == 3 and {r["group"] for r in rows} == {rescheduled}


def test_a_request_over_two_partners_is_one_line(rescheduled, platform_admin, partner_admin):
    page = client_for(platform_admin).get("/change-log/?object_type=update_request")
    assert "created an update request for 2 partners" in page.content.decode()
    own = client_for(partner_admin).get("/change-log/?object_type=update_request")
    own_page = own.content.decode()
    assert 'data-testid="changelog-bulk"' not in own_page  # its own part: one entry
    assert "5 × " not in own_page and "3 × 14.10" in own_page


def test_one_objects_fields_stay_separate_lines(platform_admin, a_tenants, partner_a):
    tenant = a_tenants[0]
    record(
        platform_admin,
        Change("update", "tenant", tenant.pk, "is_active", True, False, partner_id=partner_a.pk),
        Change("update", "tenant", tenant.pk, "is_test", False, True, partner_id=partner_a.pk),
    )
    assert set(ChangeLogEntry.objects.values_list("group", flat=True)) == {None}
    page = client_for(platform_admin).get("/change-log/").content.decode()
    assert 'data-testid="changelog-bulk"' not in page
    assert page.count(f'<a href="/tenants/{tenant.pk}/">{tenant.name}</a>') == 2


def test_the_csv_has_one_row_per_line_and_the_drill_downs_rows(
    rescheduled, platform_admin, a_tenants, sunday_window
):
    platform_admin.language = "de"
    platform_admin.save(update_fields=["language"])
    client = client_for(platform_admin)
    [line] = _csv(client.get("/change-log/?action=reschedule&format=csv"))
    assert line["object"] == "5 Aufgaben verschoben"
    assert line["group"] == rescheduled and line["group_size"] == "5"
    assert line["object_id"] == "" and line["field"] == "earliest_start"
    # the same new start for all: shown once, in server time (Europe/Berlin)
    start = UpdateTask.objects.filter(status="planned").values_list("earliest_start", flat=True)
    assert line["new"] == format_server_time(start[0], ZoneInfo("Europe/Berlin"))
    rows = _csv(client.get(f"/change-log/?group={rescheduled}&format=csv"))
    assert len(rows) == 5
    assert f"{a_tenants[0].name} → 14.10" in {r["object"] for r in rows}


def test_an_unknown_or_foreign_group_shows_nothing(rescheduled, partner_b_admin, partner_admin):
    assert client_for(partner_admin).get("/change-log/?group=nope").status_code == 200
    page = client_for(partner_admin).get("/change-log/?group=%23999999").content.decode()
    assert "No entries match." in page
    # partner B sees its 2 entries of the same group, never A's
    rows = _csv(client_for(partner_b_admin).get(f"/change-log/?group={rescheduled}&format=csv"))
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "rescheduled 5,000 tasks"), ("de", "5.000 Aufgaben verschoben")],
)
def test_counts_read_with_the_languages_grouping(language, text):
    with translation.override(language):
        assert summary("reschedule", "update_task", "", 5000) == text
        assert summary("reschedule", "update_task", "", 1) in (
            "rescheduled 1 task",
            "1 Aufgabe verschoben",
        )


def test_a_rollout_paused_for_two_partners_reads_as_that_rollouts_entry(
    rollout,  # noqa: F811
    platform_admin,
    partner_admin,
):
    from ucfleet.rollouts.services import pause

    pause(platform_admin, rollout.pk)
    html = (
        client_for(platform_admin)
        .get("/change-log/?object_type=rollout&action=pause")
        .content.decode()
    )
    assert html.count(f'<a href="/rollouts/{rollout.pk}/">Canary 14.10</a>') == 1
    assert "2 entries" in html and '<td class="small">paused</td>' in html
    own = (
        client_for(partner_admin)
        .get("/change-log/?object_type=rollout&action=pause")
        .content.decode()
    )
    assert own.count(f'<a href="/rollouts/{rollout.pk}/">Canary 14.10</a>') == 1
    assert "2 entries" not in own
