"""schemathesis against the OpenAPI document the running code serves at `/api/schema/`, as a
platform and as a partner administrator: no request answers 500, and every answer conforms
to the document (status code, content type, body schema).

The document is generated in-process at collection time (drf-spectacular's generator, the
same one `/api/schema/` runs; `test_served_document_is_the_one_tested` checks that they are
equal), because the served one needs the database, which collection may not use (and
schemathesis' fixture-based loader does not run under pytest 9). Requests go through the
real WSGI application, inside the test's transaction.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import UpdateTaskFactory
from ucfleet.accounts.tokens import issue_token
from ucfleet.config.wsgi import application
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.updates.choices import Status

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HYPOTHESIS = settings(
    max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def generated_document() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


# The probes answer 503 by design while no worker lives; tests/ops covers them.
schema = schemathesis.openapi.from_dict(generated_document()).exclude(tag="operations")
schema.app = application
schema.location = "/api/schema/"


@pytest.fixture(autouse=True)
def world(db, a_tenants, b_tenants, versions):
    """Tenants and tasks of two partners and a platform maintenance, so that generated
    requests meet real rows as well as absent ones."""
    for index, tenant in enumerate([*a_tenants, *b_tenants]):
        UpdateTaskFactory(
            tenant=tenant,
            target_version=versions["new"],
            status=[Status.PLANNED, Status.FAILED][index % 2],
        )
    start = timezone.now() + timedelta(days=3)
    PlatformMaintenance.objects.create(start=start, end=start + timedelta(hours=2))
    # The WSGI handler closes the database connection after each request, which would end
    # the test's transaction; Django's own test client switches that off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _call(case, admin):
    case.call_and_validate(
        headers={"Authorization": f"Token {issue_token(admin).key}"}, checks=CHECKS
    )


@schema.parametrize()
@HYPOTHESIS
def test_api_as_platform_administrator(case, platform_admin):
    _call(case, platform_admin)


@schema.parametrize()
@HYPOTHESIS
def test_api_as_partner_administrator(case, partner_admin):
    _call(case, partner_admin)


def test_served_document_is_the_one_tested(client):
    served = client.get("/api/schema/", {"format": "json"})
    assert served.status_code == 200
    assert served.json() == generated_document()
