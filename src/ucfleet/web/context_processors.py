from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    """Server zone and running maintenance for every template (the orange title bar, R8)."""
    return {
        "server_zone": getattr(request, "server_zone", None),
        "running_maintenance": getattr(request, "running_maintenance", None),
    }
