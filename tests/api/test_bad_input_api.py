"""Bad input to the API answers a clear error in the API's shape, never a 500: lone
surrogates, deep nesting, oversized bodies; and a real server error answers JSON and
leaves its traceback in the log."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from django.utils.log import configure_logging

from tests.api.conftest import BASE

pytestmark = pytest.mark.django_db

SURROGATE = "\ud800"


def post_json(client, path, body, **extra):
    client.raise_request_exception = False
    raw = body if isinstance(body, str) else json.dumps(body)  # json escapes the surrogate
    return client.generic("POST", BASE + path, raw, content_type="application/json", **extra)


@pytest.fixture
def bodies(a_tenants, versions):
    schedule = {
        "tenants": [a_tenants[0].pk],
        "timing": "immediate",
        "target_version": versions["new"].pk,
        "task_type": "update",
    }
    return {"schedule": schedule, "tenant": a_tenants[0]}


@pytest.mark.parametrize(
    ("path", "field", "nested"),
    [
        ("/update-tasks/preview/", "timing", None),
        ("/update-tasks/preview/", "target_version", None),
        ("/update-tasks/preview/", "task_type", None),
        ("/update-tasks/", "timing", None),
        ("/update-tasks/delete/", "status", None),
        ("/update-tasks/delete/", "timing", None),
        ("/tenants/", "language", None),
        ("/tenants/", "name", None),
        ("/platform-maintenances/{maintenance}/resolve-conflicts/", "action", None),
        ("/update-tasks/preview/", "tenants.0", "tenants"),
    ],
)
def test_lone_surrogates_in_any_string_answer_400_naming_the_field(
    platform_api, bodies, partner_a, versions, path, field, nested
):
    from datetime import timedelta

    from django.utils import timezone

    from ucfleet.maintenance.models import PlatformMaintenance

    start = timezone.now() + timedelta(days=3)
    maintenance = PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=1))
    base = {
        "/update-tasks/preview/": bodies["schedule"],
        "/update-tasks/": bodies["schedule"],
        "/update-tasks/delete/": {"all": True},
        "/tenants/": {
            "name": "new",
            "domain": "new.example",
            "partner": partner_a.pk,
            "language": "en",
            "version": versions["current"].pk,
        },
        "/platform-maintenances/{maintenance}/resolve-conflicts/": {"action": "delete"},
    }[path]
    body = dict(base)
    if nested:
        body[nested] = [SURROGATE]
    else:
        body[field] = SURROGATE
    answer = post_json(platform_api, path.format(maintenance=maintenance.pk), body)
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/json"
    assert field in answer.json()["errors"]


def test_a_lone_surrogate_in_a_field_name_answers_400(platform_api, bodies):
    answer = post_json(platform_api, "/update-tasks/preview/", {**bodies["schedule"], SURROGATE: 1})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


def test_a_number_beyond_a_float_answers_400(platform_api, bodies):
    raw = json.dumps(bodies["schedule"]).replace('"immediate"', "1e309")
    answer = post_json(platform_api, "/update-tasks/preview/", raw)
    assert answer.status_code == 400
    assert "timing" in answer.json()["errors"]


def test_raw_surrogate_bytes_in_query_strings_answer_400(platform_api):
    platform_api.raise_request_exception = False
    answer = platform_api.get(
        BASE + "/update-tasks/", QUERY_STRING="status=%ED%A0%80&timing=%ED%A0%80"
    )
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"status", "timing"}


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_on_the_anonymous_token_endpoint_answers_400(client_for, opening):
    closing = "]" if opening == "[" else "}"
    body = opening * 1000 + "1" + closing * 1000
    answer = post_json(client_for(None), "/auth/token/", body)
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert "deeper" in answer.json()["detail"]


def test_moderately_nested_json_is_refused_by_the_depth_limit(client_for):
    body = {"username": "x", "password": json.loads("[" * 100 + "]" * 100)}
    answer = post_json(client_for(None), "/auth/token/", body)
    assert answer.status_code == 400
    assert "deeper" in json.dumps(answer.json())


def test_an_oversized_api_body_answers_413_in_the_api_shape(platform_api, client_for, bodies):
    big = {**bodies["schedule"], "padding": "x" * 3_000_000}
    anonymous = client_for(None)
    for client, path in [(platform_api, "/update-tasks/preview/"), (anonymous, "/auth/token/")]:
        answer = post_json(client, path, big)
        assert answer.status_code == 413, answer.content[:200]
        assert answer["Content-Type"] == "application/json"
        assert answer.json()["code"] == "request_too_large"


def test_too_many_form_fields_on_the_token_endpoint_answer_400_in_the_api_shape(client_for):
    client = client_for(None)
    client.raise_request_exception = False
    body = "&".join(f"f{n}=1" for n in range(1100))
    answer = client.generic(
        "POST", BASE + "/auth/token/", body, content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "too_many_fields"


def test_an_oversized_portal_form_keeps_the_portal_page(client, platform_admin):
    client.force_login(platform_admin)
    client.raise_request_exception = False
    answer = client.post("/partners/new/", {"name": "x" * 3_000_000})
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/html")


# --- server errors: JSON under /api/, traceback in the log ----------------------------------


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.api.failing_urls"
    settings.DEBUG = False


@pytest.fixture
def stderr_log(monkeypatch):
    """The project's LOGGING applied again with stderr captured: what an operator sees."""
    from django.conf import settings

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    yield stream
    monkeypatch.undo()
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/failing/", "application/json"),
        ("/failing-page/", "text/html; charset=utf-8"),
    ],
)
def test_a_server_error_is_logged_with_its_traceback(
    failing_urls, stderr_log, caplog, platform_api, path, content_type
):
    platform_api.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        answer = platform_api.get(path)
    assert answer.status_code == 500
    assert answer["Content-Type"] == content_type
    if content_type == "application/json":
        assert answer.json()["code"] == "server_error"
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None
    assert "ZeroDivisionError" in caplog.text
    logged = stderr_log.getvalue()
    assert "Traceback (most recent call last)" in logged
    assert "failing_urls.py" in logged
    assert "ZeroDivisionError" in logged
