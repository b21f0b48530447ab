"""One error shape for the whole API (API.md): {"detail": "...", "code": "...", "errors": {...}}.

Domain errors from services map to 400/403/404/409; DRF's own errors keep their status and
are reshaped. Every 400 carries `errors` (field → messages; nested fields are dotted, e.g.
`slots.0.start`), so a client can always look there. Anything else is a bug, answered by
Django's 500 handler (and a test fails).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ucfleet.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 400}
NON_FIELD = "non_field_errors"


def flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as {"a.b.0.c": ["message", ...]}."""
    found: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, name).items():
                found.setdefault(field, []).extend(messages)
    elif isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        for index, value in enumerate(data):
            if isinstance(value, dict | list):
                name = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in flatten_errors(value, name).items():
                    found.setdefault(field, []).extend(messages)
            elif value:
                found.setdefault(prefix or NON_FIELD, []).append(str(value))
    elif isinstance(data, list):
        found[prefix or NON_FIELD] = [str(item) for item in data]
    elif data not in (None, ""):
        found[prefix or NON_FIELD] = [str(data)]
    return found


def _code(exc: Exception) -> str:
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        if isinstance(codes, str):
            return codes
    return getattr(exc, "default_code", "error")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        code = next((c for cls, c in _STATUS.items() if isinstance(exc, cls)), 400)
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if isinstance(exc, Invalid) or code == 400:
            body["errors"] = getattr(exc, "errors", {}) or {}
        return Response(body, status=code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        return Response(
            {"detail": "Invalid input.", "code": "invalid", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        first = next(iter(errors.values()), ["Invalid input."])[0]
        detail = first if list(errors) == [NON_FIELD] else "Invalid input."
        response.data = {"detail": detail, "code": "invalid", "errors": errors}
    else:
        data = response.data
        detail = data.get("detail", "") if isinstance(data, dict) else data
        body = {"detail": str(detail), "code": _code(exc)}
        if response.status_code == status.HTTP_400_BAD_REQUEST:
            body["errors"] = {}
        response.data = body
    return response
