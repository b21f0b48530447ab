"""The committed OpenAPI document is the one the code generates (a CI check), and the
document and its browsable docs are served."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

import ucfleet.api

COMMITTED = Path(ucfleet.api.__file__).parent / "openapi.yaml"
REGENERATE = "ucfleet spectacular --validate --file src/ucfleet/api/openapi.yaml"


def generated_yaml() -> str:
    out = io.StringIO()
    call_command("spectacular", "--validate", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_committed_openapi_document_matches_the_code():
    assert COMMITTED.read_text(encoding="utf-8") == generated_yaml(), (
        f"src/ucfleet/api/openapi.yaml is out of date; regenerate it: {REGENERATE}"
    )


def test_document_keeps_the_contract_paths():
    paths = set(yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))["paths"])
    contract = {
        "/api/v1/auth/token/",
        "/api/v1/partners/",
        "/api/v1/partners/{id}/",
        "/api/v1/scale-units/",
        "/api/v1/tenants/",
        "/api/v1/tenants/{id}/",
        "/api/v1/versions/",
        "/api/v1/versions/{id}/",
        "/api/v1/maintenance-window/",
        "/api/v1/platform-maintenances/",
        "/api/v1/platform-maintenances/{id}/",
        "/api/v1/platform-maintenances/{id}/conflicts/",
        "/api/v1/platform-maintenances/{id}/resolve-conflicts/",
        "/api/v1/update-tasks/preview/",
        "/api/v1/update-tasks/",
        "/api/v1/update-tasks/{id}/",
        "/api/v1/update-tasks/{id}/reschedule/",
        "/api/v1/update-tasks/reschedule/",
        "/api/v1/update-tasks/delete/",
        "/api/v1/update-tasks/{id}/retry/",
        "/api/v1/notifications/",
        "/api/v1/change-log/",
    }
    assert contract - paths == set()


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    as_json = client.get("/api/schema/", {"format": "json"})
    assert as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert as_json.json()["info"]["title"] == "ucfleet API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
