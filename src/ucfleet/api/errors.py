"""One error shape for the whole API (API.md): {"detail": "...", "errors": {field: [...]}}.

Domain errors from services map to 400/403/404/409; DRF's own errors keep their status and
are reshaped. Anything else is a bug, answered by Django's 500 handler (and a test fails).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ucfleet.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 400}


def _field_errors(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {key: [str(v) for v in (value if isinstance(value, list) else [value])]
                for key, value in data.items() if key != "detail"}
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        code = next((c for cls, c in _STATUS.items() if isinstance(exc, cls)), 400)
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if isinstance(exc, Invalid):
            body["errors"] = exc.errors
        return Response(body, status=code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"detail": "Invalid input.", "errors": errors},
                        status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail
        if isinstance(data, list):
            errors = {"non_field_errors": [str(d) for d in data]}
        else:
            errors = {k: [str(x) for x in (v if isinstance(v, list) else [v])]
                      for k, v in data.items()}
        response.data = {"detail": "Invalid input.", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), **_field_errors(response.data)}
    return response
