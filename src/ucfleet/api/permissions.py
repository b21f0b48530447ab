"""Who may call the API at all. What each profile may do lives in the domain services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission

from ucfleet.core.timeutils import UTC
from ucfleet.maintenance.queries import running_maintenance

_UNKNOWN = object()


class MaintenanceRunning(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "platform_maintenance"
    default_detail = "A platform maintenance is running."


def current_maintenance(request: Any) -> Any:
    """The running platform maintenance; the portal middleware has usually read it already."""
    found = getattr(request, "running_maintenance", _UNKNOWN)
    return running_maintenance() if found is _UNKNOWN else found


def refuse_partner_during_maintenance(user: Any, request: Any) -> None:
    """R8: while a platform maintenance runs, only platform administrators get in; the API
    answers partner administrators 503 (with the end as Retry-After) as the portal logs
    them out."""
    if user is None or not getattr(user, "is_partner_admin", False):
        return
    maintenance = current_maintenance(request)
    if maintenance is None:
        return
    end = maintenance.end.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise MaintenanceRunning(
        _(
            "A platform maintenance is running until %(end)s; only platform administrators "
            "can log in."
        )
        % {"end": end}
    )


class IsAdministrator(BasePermission):
    """An authenticated administrator, not locked out by a running platform maintenance."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        refuse_partner_during_maintenance(user, request)
        return True
