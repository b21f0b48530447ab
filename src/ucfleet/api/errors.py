"""One error shape for the whole API (API.md): {"detail": "...", "code": "...", "errors": {...}}.

Domain errors from services map to 400/403/404/409; DRF's own errors keep their status and
are reshaped. Every 400 carries `errors` (field → messages; nested fields are dotted, e.g.
`slots.0.start`), so a client can always look there. Anything else is a bug, answered by
Django's 500 handler (and a test fails): `server_error` below answers it in the same shape
under /api/ (the traceback is logged by Django's `django.request` logger), and
`bad_request` does so for what Django refuses before DRF sees the request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
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


def too_large_body() -> dict[str, Any]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return {
        "detail": f"The request body is too large (at most {limit} bytes).",
        "code": "request_too_large",
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response(too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        return Response(
            {"detail": str(exc), "code": "too_many_fields", "errors": {}},
            status=status.HTTP_400_BAD_REQUEST,
        )
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


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE read outside DRF): the
    API's error shape under /api/, the portal's page elsewhere."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(too_large_body(), status=413)
    return JsonResponse({"detail": "Bad request.", "code": "bad_request", "errors": {}}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse(
        {"detail": "Server error: the administrators find it in the log.", "code": "server_error"},
        status=500,
    )
