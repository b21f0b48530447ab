"""Every API operation of the OpenAPI document, as a platform and as a partner
administrator, with a corpus of hostile values in each parameter and body field (beside
schemathesis, which explores the documented types): far dates, lone surrogates, 20,000
characters, markup, overflowing numbers (also the literal 1e309), non-ASCII digits, control
characters, nulls and wrong types. One value at a time, the rest of the body valid, so the
hostile value reaches as deep as it can. No answer may be a 500, and every answer is JSON
(or the CSV export), never a page that could run reflected markup.

Operations and fields come from the document, so new operations are crawled without a
change here. Each request runs in a savepoint that is rolled back."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from tests.factories import PASSWORD, UpdateTaskFactory
from tests.hostile import (
    JSON_CATEGORIES,
    RAW_SURROGATE_BYTES,
    SURROGATE,
    json_corpus,
    short,
    tally,
)
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import Status

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
RAW_INFINITY = "__raw_1e309__"
RAW_DEEP = "__raw_1000_deep__"  # 1,000 nested lists: too deep for json.dumps to write
DATE_NAME = re.compile(r"(^|_)(start|end|date|until|from|to|released_on|at)$")
# How many of each category's values the default run sends (UCFLEET_HOSTILE_FULL=1: all).
QUICK = {"far_dates": 5, "numbers": 3, "types": 4}
FULL = os.environ.get("UCFLEET_HOSTILE_FULL") == "1"


def generated_document() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


DOCUMENT = generated_document()


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = DOCUMENT["components"]["schemas"][name]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve(schema["allOf"][0])
    return schema


@pytest.fixture
def world(platform_admin, a_tenants, b_tenants, versions, scale_unit):
    soon = timezone.now() + timedelta(days=3)
    planned = UpdateTaskFactory(
        tenant=a_tenants[0], target_version=versions["new"], earliest_start=soon
    )
    failed = UpdateTaskFactory(
        tenant=a_tenants[1], target_version=versions["new"], status=Status.FAILED
    )
    UpdateTaskFactory(tenant=b_tenants[0], target_version=versions["new"])
    maintenance = PlatformMaintenance.objects.create(
        start=soon - timedelta(hours=1), end=soon + timedelta(hours=1)
    )
    notification = Notification.objects.create(
        kind="failed_partner",
        recipients=["a@example.com"],
        language="en",
        subject="s",
        body="b",
        status="failed",
        idempotency_key="hostile-crawl",
        partner_id=a_tenants[0].partner_id,
        next_attempt_at=soon,
        created=timezone.now(),
    )
    return {
        "soon": soon,
        "ids": {
            "tenants": a_tenants[2].pk,
            "partners": a_tenants[0].partner_id,
            "scale-units": scale_unit.pk,
            "versions": versions["new"].pk,
            "platform-maintenances": maintenance.pk,
            "update-tasks": planned.pk,
            "update-tasks/retry": failed.pk,
            "notifications": notification.pk,
            "administrators": platform_admin.pk,
            "webhooks": 1,
            "rollouts": 1,
        },
        "hints": {
            "tenants": [a_tenants[0].pk],
            "ids": [planned.pk],
            "partner": a_tenants[0].partner_id,
            "target_version": versions["new"].pk,
            "version": versions["current"].pk,
            "scale_unit": scale_unit.pk,
            "all": False,
            "timing": "custom",
            "task_type": "update",
            "action": "delete",
            "username": "plat",
            "password": PASSWORD,
            "language": "en",
            "languages": ["en"],
            "time_zone": "Europe/Berlin",
            "expected_task_minutes": 30,
            "slots": [{"weekdays": [6], "start": "01:00", "duration_minutes": 240}],
            "weekdays": [6],
            "duration_minutes": 240,
            "domain": "crawl.uc.example",
            "notification_email": "crawl@example.com",
            "email": "crawl@example.com",
        },
    }


# --- valid bodies from the document ----------------------------------------------------------


def example(schema: dict, name: str, world: dict) -> Any:
    schema = resolve(schema)
    if name in world["hints"]:
        return world["hints"][name]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v not in ("", None)), None)
    if "oneOf" in schema:
        return example(schema["oneOf"][0], name, world)
    kind, fmt = schema.get("type"), schema.get("format")
    if fmt == "date-time":
        offset = timedelta(hours=1) if name.endswith("end") else timedelta(0)
        return (world["soon"] + timedelta(days=1) + offset).isoformat()
    if fmt == "date":
        return (world["soon"] + timedelta(days=30)).date().isoformat()
    if kind == "integer" or kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return [example(schema.get("items", {}), name, world)]
    if kind == "object" or "properties" in schema:
        return body_example(schema, world)
    return f"crawl-{name}"


def body_example(schema: dict, world: dict) -> dict:
    schema = resolve(schema)
    return {
        name: example(prop, name, world)
        for name, prop in schema.get("properties", {}).items()
        if not resolve(prop).get("readOnly")
    }


def body_fields(body: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """The path of every field of a body, nested ones too (slots.0.start)."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*prefix, key)
            yield from body_fields(value, (*prefix, key))
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        yield from body_fields(body[0], (*prefix, 0))


def with_value(body: Any, path: tuple, value: Any) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


# --- operations ---------------------------------------------------------------------------------


def operations() -> list[tuple[str, str, dict]]:
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS:
            if method in item:
                found.append((method, path, item[method]))
    return found


def path_with_ids(path: str, world: dict, id_value: str | None = None) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    resource = parts[2] if len(parts) > 2 else parts[-1]
    key = f"{resource}/retry" if path.endswith("/retry/") else resource
    real = str(world["ids"].get(key, world["ids"].get(resource, 1)))
    return re.sub(r"\{[^}]+\}", id_value if id_value is not None else real, path)


def json_body(operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return resolve(schema) if schema else None


def is_date_like(name: str, schema: dict) -> bool:
    return schema.get("format") in ("date-time", "date") or DATE_NAME.search(name) is not None


def applies(category: str, name: str, schema: dict) -> bool:
    schema = resolve(schema)
    if category == "far_dates":
        return is_date_like(name, schema)
    if category in ("numbers", "digits"):
        return schema.get("type") != "string" or "enum" in schema or is_date_like(name, schema)
    return True


def corpus(category: str) -> list[Any]:
    values = json_corpus(category)
    if category == "numbers":
        values = [RAW_INFINITY, *[v for v in values if v != "1e309"]]
    if category == "types":
        values = [RAW_DEEP, *values]
    return values if FULL else values[: QUICK.get(category, 1)]


def as_query(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = {RAW_INFINITY: "1e309", RAW_DEEP: "[" * 1000 + "]" * 1000}.get(text, text)
    return quote(text.replace(SURROGATE, "\x00SUR\x00"), safe="").replace(
        quote("\x00SUR\x00", safe=""), RAW_SURROGATE_BYTES
    )


def accepted_body(client: Client, method: str, url: str, schema: dict, world: dict) -> Any:
    """A body the operation accepts: the document's example, without the optional fields
    it names in a 400 (e.g. "tenants" and "partner" exclude each other)."""
    body = body_example(schema, world)
    required = set(schema.get("required", []))
    for _attempt in range(5):
        with transaction.atomic():
            response = send(client, method, url, "", body)
            transaction.set_rollback(True)
        if response.status_code != 400:
            break
        named = set(response.json().get("errors", {})) & (set(body) - required)
        if not named:
            break
        body = {k: v for k, v in body.items() if k not in {sorted(named)[0]}}
    return body


def cases(client: Client, world: dict, category: str) -> Iterator[tuple[str, str, str, Any, Any]]:
    """(method, url, query string, body, what) for one hostile value in one place."""
    for method, path, operation in operations():
        body_schema = json_body(operation)
        url = path_with_ids(path, world)
        body = None
        if body_schema is not None:
            body = accepted_body(client, method, url, body_schema, world)
        for value in corpus(category):
            for parameter in operation.get("parameters", []):
                name, where = parameter["name"], parameter["in"]
                if not applies(category, name, parameter.get("schema", {})):
                    continue
                what = f"{method.upper()} {path} {where} {name}={short(value)}"
                if where == "path":
                    hostile_url = path_with_ids(path, world, as_query(value))
                    yield method, hostile_url, "", body, what
                elif where == "query":
                    yield method, url, f"{name}={as_query(value)}", body, what
            if body is None:
                continue
            for field_path in body_fields(body):
                schema = _field_schema(body_schema, field_path)
                if not applies(category, str(field_path[-1]), schema):
                    continue
                what = f"{method.upper()} {path} body {'.'.join(map(str, field_path))}"
                yield method, url, "", with_value(body, field_path, value), f"{what}={short(value)}"


def _field_schema(schema: dict, path: tuple) -> dict:
    for key in path:
        schema = resolve(schema)
        schema = (
            schema.get("items", {})
            if isinstance(key, int)
            else schema.get("properties", {}).get(key, {})
        )
    return resolve(schema)


def send(client: Client, method: str, url: str, query: str, body: Any):
    if method == "get" or (body is None and method == "delete"):
        return client.generic(method.upper(), url, QUERY_STRING=query)
    raw = json.dumps(body).replace(f'"{RAW_INFINITY}"', "1e309")
    raw = raw.replace(f'"{RAW_DEEP}"', "[" * 1000 + "]" * 1000)
    return client.generic(
        method.upper(), url, raw.encode(), content_type="application/json", QUERY_STRING=query
    )


def run_corpus(client: Client, world: dict, name: str) -> None:
    record = tally(name)
    category = name.rsplit("/", 1)[-1]
    for method, url, query, body, what in cases(client, world, category):
        with transaction.atomic():
            response = send(client, method, url, query, body)
            transaction.set_rollback(True)
        record.tried += 1
        if response.status_code >= 500:
            record.server_errors.append(f"{what} → {response.status_code}")
        content_type = response.get("Content-Type", "")
        if response.status_code != 204 and not content_type.startswith(
            ("application/json", "text/csv", "application/vnd.oai.openapi")
        ):
            record.reflected.append(f"{what} → {response.status_code} {content_type}")


def client_for(admin) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    return client


def check(names: list[str]) -> None:
    records = [tally(name) for name in names]
    assert sum(r.tried for r in records) > 0
    errors = [e for r in records for e in r.server_errors]
    assert errors == [], "\n".join(errors)
    pages = [e for r in records for e in r.reflected]
    assert pages == [], "\n".join(pages)


ROLES = ["platform", "partner"]
GENERAL = [c for c in JSON_CATEGORIES if c != "far_dates"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def admin_of(role, platform, partner):
    return platform if role == "platform" else partner


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_survives_hostile_values(
    world, role, advanced_platform_admin, advanced_partner_admin
):
    client = client_for(admin_of(role, advanced_platform_admin, advanced_partner_admin))
    names = [f"api/{role}/{category}" for category in GENERAL]
    for name in names:
        run_corpus(client, world, name)
    check(names)


@pytest.mark.parametrize("role", ROLES)
def test_every_api_date_survives_far_dates(
    world, role, advanced_platform_admin, advanced_partner_admin
):
    client = client_for(admin_of(role, advanced_platform_admin, advanced_partner_admin))
    name = f"api/{role}/far_dates"
    run_corpus(client, world, name)
    check([name])


def test_the_document_lists_the_operations_crawled():
    assert len(operations()) >= 30
