"""/api/…: the v1 API and its OpenAPI document (JSON with ?format=json) and docs."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown /api/ paths answer in the API's error shape, not with the portal's page."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("v1/", include("ucfleet.api.v1.urls")),
    re_path(r"^", not_found),
]
