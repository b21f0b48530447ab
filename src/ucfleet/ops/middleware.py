"""Request logging and the probe routes, both ahead of the portal's own middleware."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject, empty

from ucfleet.ops.logs import current_request_id, request_id_from

log = logging.getLogger("ucfleet.request")


def _username(request: HttpRequest) -> str:
    """Who made the request, without a query: a user nobody looked at stays unasked."""
    user: Any = getattr(request, "user", None)
    if user is None:
        return ""
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:  # type: ignore[attr-defined]
        return ""
    return user.get_username() if getattr(user, "is_authenticated", False) else ""


class RequestLogMiddleware:
    """Gives each request an id (a well-formed incoming `X-Request-ID` is kept), answers
    it in `X-Request-ID`, and logs one line per request: method, path, status, duration,
    user. Goes first in MIDDLEWARE so that the duration covers everything."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            log.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user": _username(request),
                },
            )
            current_request_id.reset(token)


class ProbeMiddleware:
    """Answers `/healthz`, `/readyz` and `/metrics` (ucfleet.ops.urls) before sessions,
    authentication and the platform settings that the portal reads from the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            match = resolve(request.path_info, urlconf="ucfleet.ops.urls")
        except Resolver404:
            return self.get_response(request)
        return match.func(request, *match.args, **match.kwargs)
