"""The authorization matrix: every endpoint and method, every profile, on its own partner's
objects and on another partner's, answers exactly the status code the rules demand.

Platform administrators (plain and advanced) may do everything everywhere. Partner
administrators (plain and advanced) may do what PRODUCT.md §1 allows on their own partner's
objects, get 403 for what their profile may never do, and 404 for anything of another
partner (R1: ids are never confirmed). Anonymous callers get 401.

"Foreign" for versions is a test version (visible to platform administrators only); for
scale units, one that only the other partner's tenants run on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.api.conftest import BASE
from tests.factories import (
    AdministratorFactory,
    ScaleUnitFactory,
    TenantFactory,
    UpdateTaskFactory,
)
from ucfleet.accounts.actors import SYSTEM
from ucfleet.accounts.choices import Profile
from ucfleet.audit.services import Change, record
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.notifications.models import Notification
from ucfleet.rollouts.models import Rollout, RolloutWave
from ucfleet.updates.choices import Status
from ucfleet.webhooks.models import WebhookEndpoint

PROFILES = {
    "platform": "platform_admin",
    "advanced_platform": "advanced_platform_admin",
    "partner": "partner_admin",
    "advanced_partner": "advanced_partner_admin",
    "anonymous": None,
}
NEW_PASSWORD = "Sturdy-Harbour-Lantern-42"
WEBHOOK_URL = "https://hooks.example/ucfleet"


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {name} is replaced by world[ownership][name]
    platform: int  # the answer for platform administrators (own and foreign objects)
    partner_own: int  # partner administrators on their own partner's objects
    partner_foreign: int | None = 404  # … on another partner's; None: not partner-scoped
    body: Any = None  # a dict or a function of the objects
    # Where plain and advanced profiles differ: {"<profile> <ownership>": status}.
    by_profile: dict[str, int] | None = None

    @property
    def scoped(self) -> bool:
        return self.partner_foreign is not None


def later(hours: float) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def schedule_body(o: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tenants": [o["free_tenant"]],
        "timing": "immediate",
        "target_version": "14.10",
        **extra,
    }


def _filter_body(o: dict[str, Any]) -> dict[str, Any]:
    return {"timing": "immediate", "target_version": "14.10"}


ROWS = [
    Row("GET", "/partners/", 200, 200, None),
    Row("GET", "/partners/{partner}/", 200, 200),
    Row("GET", "/scale-units/", 200, 200, None),
    Row("GET", "/scale-units/{scale_unit}/", 200, 200),
    Row("GET", "/tenants/", 200, 200, None),
    Row("GET", "/tenants/?format=csv", 200, 200, None),
    Row(
        "POST",
        "/tenants/",
        201,
        201,
        body=lambda o: {
            "name": "new-tenant",
            "domain": "new-tenant.uc.example",
            "partner": o["partner"],
            "version": o["visible_version"],
        },
    ),
    Row("GET", "/tenants/{tenant}/", 200, 200),
    Row("PATCH", "/tenants/{tenant}/", 200, 200, body={"description": "changed"}),
    Row("GET", "/versions/", 200, 200, None),
    Row("GET", "/versions/{version}/", 200, 200),
    Row("PATCH", "/versions/{version}/", 200, 403, body={"recommend_update": True}),
    Row("GET", "/maintenance-window/", 200, 200, None),
    Row(
        "PUT",
        "/maintenance-window/",
        200,
        403,
        None,
        body={
            "time_zone": "Europe/Berlin",
            "expected_task_minutes": 30,
            "slots": [{"weekdays": [6], "start": "01:00", "duration_minutes": 240}],
        },
    ),
    Row("GET", "/platform-maintenances/", 200, 200, None),
    Row(
        "POST",
        "/platform-maintenances/",
        201,
        403,
        None,
        body=lambda o: {"start": later(100), "end": later(102), "message_en": "Upgrade"},
    ),
    Row("GET", "/platform-maintenances/{maintenance}/", 200, 200, None),
    Row(
        "PATCH",
        "/platform-maintenances/{maintenance}/",
        200,
        403,
        None,
        body={"message_de": "Wartung"},
    ),
    Row("DELETE", "/platform-maintenances/{maintenance}/", 204, 403, None),
    Row("GET", "/platform-maintenances/{maintenance}/conflicts/", 200, 200, None),
    Row(
        "POST",
        "/platform-maintenances/{maintenance}/resolve-conflicts/",
        200,
        403,
        None,
        body={"action": "delete"},
    ),
    Row("GET", "/update-tasks/", 200, 200, None),
    Row("GET", "/update-tasks/?format=csv", 200, 200, None),
    Row("GET", "/update-tasks/?format=csv&partner={partner}", 200, 200),
    Row("POST", "/update-tasks/", 201, 201, body=schedule_body),
    Row(
        "POST",
        "/update-tasks/",
        201,
        403,
        403,  # Forced update: the profile, whatever ids
        body=lambda o: schedule_body(o, forced=True),
    ),
    Row("POST", "/update-tasks/preview/", 200, 200, body=schedule_body),
    # R19: a filter naming a partner or a scale unit is scoped like an id (foreign: 404).
    Row(
        "POST",
        "/update-tasks/",
        201,
        201,
        body=lambda o: {**_filter_body(o), "filter": {"partner": [o["partner"]], "search": "free"}},
    ),
    Row(
        "POST",
        "/update-tasks/preview/",
        200,
        200,
        body=lambda o: {**_filter_body(o), "filter": {"scale_unit": [o["scale_unit"]]}},
    ),
    Row("GET", "/update-tasks/{task}/", 200, 200),
    Row("POST", "/update-tasks/{task}/reschedule/", 200, 200, body=lambda o: {"start": later(50)}),
    Row(
        "POST",
        "/update-tasks/{forced_task}/reschedule/",
        200,
        403,
        body=lambda o: {"start": later(50)},
    ),
    Row(
        "POST",
        "/update-tasks/reschedule/",
        200,
        200,
        body=lambda o: {"ids": [o["task"]], "start": later(50)},
    ),
    Row("DELETE", "/update-tasks/{task}/", 204, 204),
    Row("DELETE", "/update-tasks/{forced_task}/", 204, 403),
    Row("POST", "/update-tasks/delete/", 200, 200, body=lambda o: {"ids": [o["task"]]}),
    Row("POST", "/update-tasks/{failed_task}/retry/", 201, 201),
    Row("GET", "/notifications/", 200, 200, None),
    Row("GET", "/notifications/{notification}/", 200, 200),
    # Sending again is platform-only: 403 for partners whatever the id (confirms nothing).
    Row("POST", "/notifications/{failed_notification}/retry/", 200, 403, 403),
    Row("GET", "/change-log/", 200, 200, None),
    Row("GET", "/change-log/?format=csv", 200, 200, None),
    # Administrators: advanced platform administrators manage everyone, plain platform
    # administrators partner administrators, advanced partner administrators their own
    # partner's; plain partner administrators nobody (403, whatever the ids).
    Row("GET", "/administrators/", 200, 200, None),
    Row(
        "POST",
        "/administrators/",
        201,
        201,
        body=lambda o: {
            "username": "new-admin",
            "password": NEW_PASSWORD,
            "profile": "partner",
            "partner": o["partner"],
        },
        by_profile={"partner own": 403, "partner foreign": 403},
    ),
    Row(
        "POST",
        "/administrators/",
        201,
        403,
        None,
        body={"username": "new-platform", "password": NEW_PASSWORD, "profile": "platform"},
        by_profile={"platform own": 403, "advanced_partner own": 403},
    ),
    Row("GET", "/administrators/{administrator}/", 200, 200),
    Row(
        "PATCH",
        "/administrators/{administrator}/",
        200,
        200,
        body={"first_name": "Changed"},
        by_profile={"partner own": 403},
    ),
    Row("DELETE", "/administrators/{administrator}/", 204, 204, by_profile={"partner own": 403}),
    Row("GET", "/administrators/{platform_administrator}/", 200, 404, None),
    Row(
        "PATCH",
        "/administrators/{platform_administrator}/",
        200,
        404,
        None,
        body={"first_name": "Changed"},
        by_profile={"platform own": 403},
    ),
    Row(
        "DELETE",
        "/administrators/{platform_administrator}/",
        204,
        404,
        None,
        by_profile={"platform own": 403},
    ),
    # Webhooks (R30): partners manage their own partner's endpoints; the platform's are
    # platform-only (a partner creating one: 403; seeing one: 404, like any foreign id).
    Row("GET", "/webhooks/", 200, 200, None),
    Row(
        "POST",
        "/webhooks/",
        201,
        201,
        body=lambda o: {"url": WEBHOOK_URL, "events": ["*"], "partner": o["partner"]},
    ),
    Row(
        "POST",
        "/webhooks/",
        201,
        403,
        None,
        body={"url": WEBHOOK_URL, "events": ["*"], "partner": None},
    ),
    Row("GET", "/webhooks/{webhook}/", 200, 200),
    Row("PATCH", "/webhooks/{webhook}/", 200, 200, body={"events": ["task.failed"]}),
    Row("DELETE", "/webhooks/{webhook}/", 204, 204),
    Row("GET", "/webhooks/{webhook}/deliveries/", 200, 200),
    Row("POST", "/webhooks/{webhook}/test/", 202, 202),
    Row("GET", "/webhooks/{platform_webhook}/", 200, 404, None),
    Row("PATCH", "/webhooks/{platform_webhook}/", 200, 404, None, body={"is_active": False}),
    Row("DELETE", "/webhooks/{platform_webhook}/", 204, 404, None),
    Row("GET", "/webhooks/{platform_webhook}/deliveries/", 200, 404, None),
    Row("POST", "/webhooks/{platform_webhook}/test/", 202, 404, None),
    # A foreign partner or tenant as a list filter is not found, not an empty list (issue 9).
    Row("GET", "/update-tasks/?partner={partner}", 200, 200),
    Row("GET", "/update-tasks/?tenant={tenant}", 200, 200),
    Row(
        "POST",
        "/update-tasks/delete/",
        200,
        200,
        body=lambda o: {"all": True, "partner": o["partner"]},
    ),
    # Rollouts (R18, R22): partners see and steer the rollouts of their own tenants.
    Row("GET", "/rollouts/", 200, 200, None),
    Row("GET", "/rollouts/?partner={partner}", 200, 200),
    Row("GET", "/rollouts/{rollout}/", 200, 200),
    Row("GET", "/rollouts/{rollout}/tasks/", 200, 200),
    Row("POST", "/rollouts/{rollout}/pause/", 200, 200),
    Row("POST", "/rollouts/{paused_rollout}/resume/", 200, 200),
    Row("POST", "/rollouts/{rollout}/abort/", 200, 200),
    Row("POST", "/rollouts/{rollout}/retry-failed/", 201, 201),
    Row("POST", "/rollouts/{forced_rollout}/pause/", 200, 403),
]


def _objects_of(partner: Any, versions: dict[str, Any], unit: Any, tag: str) -> dict[str, Any]:
    def tenant(name: str) -> Any:
        return TenantFactory(
            name=f"{tag}-{name}", partner=partner, version=versions["current"], scale_unit=unit
        )

    task = UpdateTaskFactory(
        tenant=tenant("planned"),
        target_version=versions["new"],
        earliest_start=timezone.now() + timedelta(hours=5),
    )
    forced = UpdateTaskFactory(
        tenant=tenant("forced"),
        target_version=versions["new"],
        is_forced=True,
        earliest_start=timezone.now() + timedelta(hours=5),
    )
    failed = UpdateTaskFactory(
        tenant=tenant("failed"), target_version=versions["new"], status=Status.FAILED
    )
    now = timezone.now()
    notification = Notification.objects.create(
        kind="created_partner",
        partner=partner,
        recipients=[f"admin@{tag}.example"],
        language="en",
        subject="Update planned",
        body="…",
        next_attempt_at=now,
        created=now,
        idempotency_key=f"matrix-{tag}",
    )
    notification.tasks.add(task)
    failed_notification = Notification.objects.create(
        kind="created_partner",
        partner=partner,
        recipients=[f"admin@{tag}.example"],
        language="en",
        subject="Update planned",
        body="…",
        status="failed",
        attempts=10,
        next_attempt_at=now,
        created=now,
        idempotency_key=f"matrix-failed-{tag}",
    )
    record(
        SYSTEM,
        Change("update", "tenant", task.tenant_id, "description", "", "x", partner_id=partner.pk),
    )
    webhook = WebhookEndpoint.objects.create(
        url=WEBHOOK_URL, events=["*"], partner=partner, secret=f"matrix-secret-{tag}-0123456789"
    )
    colleague = AdministratorFactory(
        username=f"{tag}-colleague", profile=Profile.PARTNER, partner=partner
    )
    rollouts = {
        name: _rollout(tenant, versions, name, status=status, forced=forced)
        for name, status, forced in (
            ("rollout", "scheduled", False),
            ("paused_rollout", "paused", False),
            ("forced_rollout", "scheduled", True),
        )
    }
    return {
        **rollouts,
        "administrator": colleague.pk,
        "partner": partner.pk,
        "tenant": task.tenant_id,
        "free_tenant": tenant("free").pk,
        "task": task.pk,
        "forced_task": forced.pk,
        "failed_task": failed.pk,
        "notification": notification.pk,
        "failed_notification": failed_notification.pk,
        "scale_unit": unit.pk,
        "webhook": webhook.pk,
    }


def _rollout(tenant: Any, versions: dict[str, Any], name: str, *, status: str, forced: bool) -> int:
    """A rollout of one wave: a planned (held when paused) task and a failed one."""
    rollout = Rollout.objects.create(
        name=name,
        created=timezone.now(),
        target_version=versions["new"],
        timing="immediate",
        forced=forced,
        status=status,
    )
    RolloutWave.objects.create(rollout=rollout, index=1, size=2, status="released")
    common = {"target_version": versions["new"], "rollout": rollout, "wave": 1}
    common.update(request_id=rollout.request_id, is_forced=forced)
    UpdateTaskFactory(
        tenant=tenant(f"{name}-open"),
        status=Status.HELD if status == "paused" else Status.PLANNED,
        **common,
    )
    UpdateTaskFactory(tenant=tenant(f"{name}-failed"), status=Status.FAILED, **common)
    return rollout.pk


@pytest.fixture
def world(partner_a, partner_b, versions, scale_unit, platform_admin):
    own = _objects_of(partner_a, versions, scale_unit, "own")
    foreign = _objects_of(partner_b, versions, ScaleUnitFactory(name="b-only"), "foreign")
    start = timezone.now() + timedelta(hours=4)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=2))
    shared = {
        "maintenance": maintenance.pk,
        "visible_version": versions["current"].pk,
        "platform_administrator": AdministratorFactory(
            username="other-platform", profile=Profile.PLATFORM
        ).pk,
        "platform_webhook": WebhookEndpoint.objects.create(
            url=WEBHOOK_URL, events=["*"], secret="matrix-platform-secret-0123456789"
        ).pk,
    }
    return {
        "own": {**own, **shared, "version": versions["current"].pk},
        "foreign": {**foreign, **shared, "version": versions["test"].pk},
    }


def _cases() -> list[Any]:
    cases = []
    for row in ROWS:
        for profile in PROFILES:
            for ownership in ("own", "foreign") if row.scoped else ("own",):
                if profile == "anonymous" and ownership == "foreign":
                    continue
                if profile == "anonymous":
                    expected = 401
                elif "platform" in profile:
                    expected = row.platform
                else:
                    expected = row.partner_own if ownership == "own" else row.partner_foreign
                expected = (row.by_profile or {}).get(f"{profile} {ownership}", expected)
                cases.append(
                    pytest.param(
                        row,
                        profile,
                        ownership,
                        expected,
                        id=f"{row.method} {row.path} {profile} {ownership}",
                    )
                )
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "profile", "ownership", "expected"), _cases())
def test_status_code(row, profile, ownership, expected, world, client_for, request):
    admin = request.getfixturevalue(PROFILES[profile]) if PROFILES[profile] else None
    objects = world[ownership]
    path = BASE + row.path.format(**objects)
    body = row.body(objects) if callable(row.body) else row.body
    client = client_for(admin)
    answer = client.generic(row.method, path, data=_json(body), content_type="application/json")
    assert answer.status_code == expected, _describe(answer)


def test_matrix_covers_every_documented_operation():
    """Adding an endpoint without a matrix row fails here."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
        if path.startswith("/api/v1/")
    }
    documented.discard(("POST", "/auth/token/"))  # anonymous by design; tested on its own
    covered = {(row.method, _template(row.path)) for row in ROWS}
    assert documented - covered == set()


def test_every_profile_is_in_the_matrix():
    assert {p for p in PROFILES if p != "anonymous"} == {
        "platform",
        "advanced_platform",
        "partner",
        "advanced_partner",
    }
    assert len(Profile.values) == 4


def _template(path: str) -> str:
    path = path.split("?")[0]
    for name in (
        "partner",
        "scale_unit",
        "tenant",
        "version",
        "maintenance",
        "task",
        "forced_task",
        "failed_task",
        "notification",
        "failed_notification",
        "administrator",
        "platform_administrator",
        "webhook",
        "platform_webhook",
        "rollout",
        "paused_rollout",
        "forced_rollout",
    ):
        path = path.replace("{" + name + "}", "{id}")
    return path


def _json(body: Any) -> str:
    import json

    return "" if body is None else json.dumps(body)


def _describe(answer: Any) -> str:
    try:
        return f"{answer.status_code}: {answer.json()}"
    except Exception:  # a CSV or an empty body
        return f"{answer.status_code}"
