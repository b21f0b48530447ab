"""`/healthz`, `/readyz` and `/metrics` (R29, API.md "Operations").

They are answered by `ProbeMiddleware` before the portal's own middleware (sessions, the
per-request platform settings read from the database): a probe must answer while the
database is down, and a scrape needs no session.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ucfleet.accounts.tokens import user_for_key
from ucfleet.ops.health import readiness
from ucfleet.ops.metrics import ucfleet_registry

REALM = 'Bearer realm="ucfleet metrics"'


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process lives and answers; nothing else is asked."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    ready, body = readiness()
    return JsonResponse(body, status=200 if ready else 503)


def _denied(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = REALM
    return response


def scrape_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the caller may scrape: the scrape token (`UCFLEET_METRICS_TOKEN`) as a
    bearer token, or the API token of an active platform administrator. Partner
    administrators never may (403); anyone else is asked to authenticate (401)."""
    scheme, _, credential = request.headers.get("Authorization", "").strip().partition(" ")
    credential = credential.strip()
    scheme = scheme.lower()
    expected = settings.UCFLEET.get("METRICS_TOKEN", "")
    if scheme == "bearer" and credential:
        if expected and hmac.compare_digest(credential.encode(), expected.encode()):
            return None
        return _denied(401, "Invalid scrape token.")
    if scheme == "token" and credential:
        user = user_for_key(credential)  # None: unknown, expired, revoked or deactivated
        if user is None:
            return _denied(401, "Invalid API token.")
        if not user.is_platform_admin:
            return _denied(403, "Metrics are for platform administrators.")
        return None
    return _denied(401, "Authentication required: a scrape token or a platform API token.")


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    try:
        refusal = scrape_refusal(request)
        if refusal is not None:
            return refusal
        body = generate_latest(ucfleet_registry())
    except DatabaseError as error:
        return _denied(503, f"The database cannot be read: {error}".strip())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
