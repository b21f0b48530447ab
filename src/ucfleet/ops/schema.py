"""The probes and `/metrics` in the OpenAPI document (API.md "Operations").

They are plain Django views answered ahead of the API (ucfleet.ops.middleware), so
drf-spectacular does not find them; this post-processing hook describes them.
"""

from __future__ import annotations

from typing import Any

TAG = "operations"

_CHECK = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": True,
    "description": "Details beside `ok`: `error` (database), `unapplied` (migrations), "
    "`live` (workers).",
}
_READINESS = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "failing": {
            "type": "array",
            "items": {"type": "string", "enum": ["database", "migrations", "workers"]},
        },
        "checks": {
            "type": "object",
            "properties": {name: _CHECK for name in ("database", "migrations", "workers")},
            "required": ["database", "migrations", "workers"],
        },
    },
    "required": ["status", "failing", "checks"],
}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_operations_paths(result: dict[str, Any], generator: Any, request: Any, public: Any):
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["scrapeToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The scrape token of the settings (`UCFLEET_METRICS_TOKEN`).",
    }
    result.setdefault("paths", {}).update(
        {
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "description": "The process lives and answers (no database access).",
                    "tags": [TAG],
                    "security": [{}],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"status": {"type": "string", "enum": ["ok"]}},
                                "required": ["status"],
                            },
                            "Alive.",
                        )
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "description": "Ready when the database answers, every migration is "
                    "applied and at least one worker has a fresh heartbeat.",
                    "tags": [TAG],
                    "security": [{}],
                    "responses": {
                        "200": _json(_READINESS, "Ready."),
                        "503": _json(_READINESS, "Not ready: `failing` names the checks."),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "description": "Prometheus text format (docs/operations.md lists the "
                    "metrics). For the scrape token or a platform administrator's API token.",
                    "tags": [TAG],
                    "security": [{"scrapeToken": []}, {"tokenAuth": []}],
                    "responses": {
                        "200": {"description": "The metrics.", "content": _TEXT},
                        "401": {"description": "No valid scrape or API token.", "content": _TEXT},
                        "403": {
                            "description": "A partner administrator's token.",
                            "content": _TEXT,
                        },
                        "503": {"description": "The database cannot be read.", "content": _TEXT},
                    },
                }
            },
        }
    )
    return result
