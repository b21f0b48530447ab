"""Per request: show times in server time, and end partner sessions during maintenance (R8)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ucfleet.maintenance.queries import running_maintenance, server_zone


class PlatformContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.server_zone = server_zone()  # type: ignore[attr-defined]
        request.running_maintenance = running_maintenance()  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if request.running_maintenance and user is not None and user.is_authenticated \
                and not user.is_platform_admin:  # type: ignore[attr-defined]
            logout(request)
        timezone.activate(request.server_zone)  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
