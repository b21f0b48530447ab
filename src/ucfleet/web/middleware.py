"""Per request: server time, the administrator's language, and the maintenance rule (R8).

- Times are shown in server time: the platform's zone is activated for the request (R3).
- A logged-in administrator sees the portal in the language of their profile; before login
  the browser's preference decides (LocaleMiddleware, which runs earlier).
- During a running platform maintenance partner sessions end (R8).
- Domain errors that escape a portal view become the matching HTTP answer, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation

from ucfleet.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from ucfleet.maintenance.queries import running_maintenance, server_zone


class PlatformContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = server_zone()
        maintenance = running_maintenance()
        request.server_zone = zone  # type: ignore[attr-defined]
        request.running_maintenance = maintenance  # type: ignore[attr-defined]
        user: Any = getattr(request, "user", None)
        if (
            maintenance
            and user is not None
            and user.is_authenticated
            and not user.is_platform_admin
        ):
            logout(request)
            # The login page tells why (logout flushed the old session; this is a new one).
            request.session["ended_by_maintenance"] = True
            user = request.user
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # The API translates domain errors itself; only portal views end up here.
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            raise Http404(exception.message)
        if isinstance(exception, Forbidden):
            raise PermissionDenied(exception.message)
        if isinstance(exception, (Conflict, Invalid)):
            # A view that did not expect this state still answers cleanly (409/400 page).
            from ucfleet.web.views.errors import domain_error_response

            return domain_error_response(request, exception)
        return None
