"""The v1 resources through HTTP: shapes, filters, markers, times and errors (API.md)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import BASE
from tests.factories import PASSWORD, ScaleUnitFactory
from ucfleet.audit.services import Change, record
from ucfleet.maintenance.models import PlatformMaintenance

pytestmark = pytest.mark.django_db


def test_token_endpoint_answers_the_token_that_authenticates(client_for, partner_admin, a_tenants):
    answer = client_for(None).post(
        f"{BASE}/auth/token/",
        {"username": partner_admin.username, "password": PASSWORD},
        format="json",
    )
    assert answer.status_code == 200
    key = answer.json()["token"]
    tenants = client_for(None).get(f"{BASE}/tenants/", HTTP_AUTHORIZATION=f"Token {key}")
    assert tenants.status_code == 200
    assert tenants.json()["count"] == len(a_tenants)


def test_token_endpoint_refuses_a_wrong_password_with_field_errors(client_for, partner_admin):
    answer = client_for(None).post(
        f"{BASE}/auth/token/",
        {"username": partner_admin.username, "password": "nope"},
        format="json",
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"] and "non_field_errors" in body["errors"]


def test_anonymous_and_bad_tokens_get_401_with_a_challenge(client_for):
    anonymous = client_for(None).get(f"{BASE}/tenants/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Token")
    bad = client_for(None).get(f"{BASE}/tenants/", HTTP_AUTHORIZATION="Token 0123456789")
    assert bad.status_code == 401


def test_partner_list_shows_only_the_own_partner_with_its_tenant_count(
    partner_api, platform_api, a_tenants, b_tenants, partner_a, partner_b
):
    own = partner_api.get(f"{BASE}/partners/").json()
    assert own["count"] == 1
    assert own["results"][0] == {
        "id": partner_a.pk,
        "name": partner_a.name,
        "is_active": True,
        "language": "en",
        "tenant_count": 3,
    }
    every = platform_api.get(f"{BASE}/partners/").json()
    assert {p["name"]: p["tenant_count"] for p in every["results"]} == {
        partner_a.name: 3,
        partner_b.name: 2,
    }


def test_tenant_fields_and_markers(platform_api, a_tenants, versions, task_of):
    task_of(a_tenants[0])
    a_tenants[1].version = versions["new"]  # "Recommend update"
    a_tenants[1].save()
    rows = {t["id"]: t for t in platform_api.get(f"{BASE}/tenants/").json()["results"]}
    first, second, third = (rows[t.pk] for t in a_tenants)
    assert set(first) >= {
        "id",
        "name",
        "domain",
        "partner",
        "language",
        "version",
        "description",
        "customer_id",
        "notification_email",
        "is_active",
        "auto_update_allowed",
        "is_productive",
        "is_nfr",
        "is_test",
        "test_until",
        "scale_unit",
        "instance_id",
        "update_scheduled",
        "update_recommended",
    }
    assert (first["update_scheduled"], first["update_recommended"]) == (True, False)
    assert (second["update_scheduled"], second["update_recommended"]) == (False, True)
    assert (third["update_scheduled"], third["update_recommended"]) == (False, False)


def test_tenant_filters(platform_api, a_tenants, b_tenants, partner_b, versions, task_of):
    task_of(b_tenants[0])
    a_tenants[0].auto_update_allowed = False
    a_tenants[0].save()
    b_tenants[1].version = versions["old"]
    b_tenants[1].save()

    def ids(**params):
        answer = platform_api.get(f"{BASE}/tenants/", params)
        assert answer.status_code == 200, answer.json()
        return {t["id"] for t in answer.json()["results"]}

    assert ids(partner=partner_b.pk) == {t.pk for t in b_tenants}
    assert ids(update_scheduled="true") == {b_tenants[0].pk}
    assert ids(auto_update_allowed="false") == {a_tenants[0].pk}
    assert ids(version=versions["old"].pk) == {b_tenants[1].pk}
    assert ids(version="14.8") == {b_tenants[1].pk}
    assert ids(version="99.99") == set()
    assert ids(search=a_tenants[2].name) == {a_tenants[2].pk}
    assert ids(search=a_tenants[2].instance_id) == {a_tenants[2].pk}


@pytest.mark.parametrize(
    "params",
    [
        {"partner": "abc"},
        {"partner": "-1"},
        {"partner": str(2**70)},
        {"update_scheduled": "maybe"},
        {"search": "a\x00b"},
    ],
)
def test_bad_filters_answer_400_with_field_errors(platform_api, params, a_tenants):
    answer = platform_api.get(f"{BASE}/tenants/", params)
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == set(params)


@pytest.mark.parametrize(
    "path",
    [
        "/tenants/abc/",
        "/tenants/0/",
        f"/tenants/{2**64}/",
        "/partners/1e3/",
        "/versions/-1/",
        "/update-tasks/99999999999999999999999/",
        "/platform-maintenances/x/",
    ],
)
def test_garbage_ids_answer_404_in_json(platform_api, path):
    answer = platform_api.get(BASE + path)
    assert answer.status_code == 404
    assert answer.json()["detail"]


def test_pages(platform_api, a_tenants, b_tenants):
    first = platform_api.get(f"{BASE}/tenants/", {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    assert first["previous"] is None
    assert platform_api.get(f"{BASE}/tenants/", {"page": 10**30}).status_code == 404
    capped = platform_api.get(f"{BASE}/tenants/", {"page_size": 10**30})
    assert capped.status_code == 200 and len(capped.json()["results"]) == 5


def test_partner_administrator_may_edit_own_tenant_but_not_its_partner(
    partner_api, a_tenants, partner_b
):
    tenant = a_tenants[0]
    answer = partner_api.patch(
        f"{BASE}/tenants/{tenant.pk}/",
        {"description": "VIP", "auto_update_allowed": False},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["description"], answer.json()["auto_update_allowed"]) == ("VIP", False)
    moved = partner_api.patch(
        f"{BASE}/tenants/{tenant.pk}/", {"partner": partner_b.pk}, format="json"
    )
    assert moved.status_code == 400
    assert "partner" in moved.json()["errors"]


def test_create_tenant(platform_api, partner_a, versions, scale_unit):
    answer = platform_api.post(
        f"{BASE}/tenants/",
        {
            "name": "acme",
            "domain": "acme.uc.example",
            "partner": partner_a.pk,
            "version": versions["current"].pk,
            "language": "de",
            "scale_unit": scale_unit.pk,
            "notification_email": "it@acme.example",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["partner"], body["version"], body["language"]) == (
        partner_a.pk,
        versions["current"].pk,
        "de",
    )
    assert body["instance_id"].startswith("i-") and body["update_scheduled"] is False
    duplicate = platform_api.post(
        f"{BASE}/tenants/",
        {
            "name": "acme",
            "domain": "other.uc.example",
            "partner": partner_a.pk,
            "version": versions["current"].pk,
        },
        format="json",
    )
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]


def test_versions_list_counts_the_callers_tenants_and_hides_test_versions_from_partners(
    partner_api, platform_api, a_tenants, b_tenants, versions
):
    own = {v["name"]: v for v in partner_api.get(f"{BASE}/versions/").json()["results"]}
    assert "15.0" not in own
    assert own["14.9"]["tenant_count"] == 3
    every = {v["name"]: v for v in platform_api.get(f"{BASE}/versions/").json()["results"]}
    assert every["14.9"]["tenant_count"] == 5 and every["15.0"]["for_testing"] is True
    # newest first, by version semantics
    assert list(every)[:2] == ["15.0", "14.12"]


def test_platform_administrator_sets_version_flags(platform_api, versions):
    answer = platform_api.patch(
        f"{BASE}/versions/{versions['old'].pk}/", {"update_prohibited": True}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["update_prohibited"] is True


def test_maintenance_window_round_trip(platform_api, partner_api):
    body = {
        "time_zone": "Europe/Berlin",
        "expected_task_minutes": 30,
        "slots": [{"weekdays": [6], "start": "01:00", "duration_minutes": 240}],
    }
    answer = platform_api.put(f"{BASE}/maintenance-window/", body, format="json")
    assert answer.status_code == 200, answer.json()
    seen = partner_api.get(f"{BASE}/maintenance-window/").json()
    assert seen["slots"] == body["slots"] and seen["time_zone"] == "Europe/Berlin"
    occurrences = seen["next_occurrences"]
    assert len(occurrences) == 5
    first = datetime.fromisoformat(occurrences[0]["start"])
    assert occurrences[0]["start"].endswith("Z")
    assert first.astimezone(timezone.get_fixed_timezone(0)).hour in (23, 0)  # 01:00 CET/CEST
    assert partner_api.put(f"{BASE}/maintenance-window/", body, format="json").status_code == 403


def test_maintenance_window_rejects_bad_slots_with_dotted_field_names(platform_api):
    answer = platform_api.put(
        f"{BASE}/maintenance-window/",
        {
            "time_zone": "Mars/Olympus",
            "expected_task_minutes": 30,
            "slots": [{"weekdays": [9], "start": "25:00", "duration_minutes": 0}],
        },
        format="json",
    )
    assert answer.status_code == 400
    assert {"slots.0.weekdays.0", "slots.0.start", "slots.0.duration_minutes"} <= set(
        answer.json()["errors"]
    )


def test_platform_maintenance_times_without_offset_are_server_time(platform_api):
    platform_api.put(
        f"{BASE}/maintenance-window/",
        {"time_zone": "Europe/Berlin", "expected_task_minutes": 30, "slots": []},
        format="json",
    )
    answer = platform_api.post(
        f"{BASE}/platform-maintenances/",
        {
            "start": "2030-01-10T22:00:00",
            "end": "2030-01-11T02:00:00+01:00",
            "message_en": "Database upgrade",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["start"] == "2030-01-10T21:00:00Z"
    assert body["end"] == "2030-01-11T01:00:00Z"
    assert body["is_active_now"] is False


def test_platform_maintenance_crud(platform_api, partner_api):
    start = timezone.now() - timedelta(hours=1)
    created = platform_api.post(
        f"{BASE}/platform-maintenances/",
        {"start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat()},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["is_active_now"] is True
    assert partner_api.get(f"{BASE}/platform-maintenances/{pk}/").status_code == 503
    changed = platform_api.patch(
        f"{BASE}/platform-maintenances/{pk}/", {"message_de": "Wartung"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["message_de"] == "Wartung"
    inverted = platform_api.patch(
        f"{BASE}/platform-maintenances/{pk}/",
        {"end": (start - timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert inverted.status_code == 400 and "end" in inverted.json()["errors"]
    assert platform_api.delete(f"{BASE}/platform-maintenances/{pk}/").status_code == 204
    assert not PlatformMaintenance.objects.exists()


def test_partner_administrators_are_locked_out_while_a_maintenance_runs(
    client_for, partner_admin, platform_admin
):
    now = timezone.now()
    PlatformMaintenance.objects.create(
        start=now - timedelta(minutes=5), end=now + timedelta(hours=1)
    )
    locked = client_for(partner_admin).get(f"{BASE}/tenants/")
    assert locked.status_code == 503 and "maintenance" in locked.json()["detail"]
    login = client_for(None).post(
        f"{BASE}/auth/token/",
        {"username": partner_admin.username, "password": PASSWORD},
        format="json",
    )
    assert login.status_code == 503
    assert client_for(platform_admin).get(f"{BASE}/tenants/").status_code == 200


def test_change_log_lists_and_exports_csv(
    platform_api, partner_api, partner_a, partner_b, platform_admin
):
    record(
        platform_admin,
        Change("update", "tenant", 1, "description", "old", "=cmd()", partner_id=partner_a.pk),
        Change("update", "tenant", 2, "description", "", "x", partner_id=partner_b.pk),
    )
    listed = partner_api.get(f"{BASE}/change-log/").json()
    assert [e["object_id"] for e in listed["results"]] == ["1"]
    entry = listed["results"][0]
    assert entry["actor"] == platform_admin.username and entry["at"].endswith("Z")
    exported = platform_api.get(f"{BASE}/change-log/", {"format": "csv", "object_type": "tenant"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[0] == [
        "id",
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "field",
        "old",
        "new",
        "group",
    ]
    assert {r[5]: r[8] for r in rows[1:]} == {"1": "'=cmd()", "2": "x"}
    bad = platform_api.get(f"{BASE}/change-log/", {"format": "csv", "since": "yesterday"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"


def test_scale_units_of_partner_are_those_its_tenants_run_on(partner_api, a_tenants, scale_unit):
    ScaleUnitFactory(name="other")
    names = [u["name"] for u in partner_api.get(f"{BASE}/scale-units/").json()["results"]]
    assert names == [scale_unit.name]


def test_token_login_is_locked_after_repeated_failures(client_for, partner_admin, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = client_for(None)
    wrong = {"username": partner_admin.username, "password": "wrong"}
    answers = [
        client.post(f"{BASE}/auth/token/", wrong, format="json").status_code for _ in range(3)
    ]
    assert answers == [400, 400, 429]  # the third failure locks
    right = {"username": partner_admin.username, "password": PASSWORD}
    locked = client.post(f"{BASE}/auth/token/", right, format="json")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"


def test_session_authentication_works_for_the_portal_with_csrf(partner_admin, a_tenants):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(partner_admin)
    assert client.get(f"{BASE}/tenants/").json()["count"] == len(a_tenants)
    without_csrf = client.patch(
        f"{BASE}/tenants/{a_tenants[0].pk}/", {"description": "x"}, format="json"
    )
    assert without_csrf.status_code == 403
    assert "CSRF" in without_csrf.json()["detail"]
