"""Error pages: a domain error nobody caught still answers with a clear page, never a 500."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ucfleet.core.errors import Conflict, DomainError


def domain_error_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    status = 409 if isinstance(error, Conflict) else 400
    return render(request, "web/errors/domain.html", {"error": error}, status=status)
