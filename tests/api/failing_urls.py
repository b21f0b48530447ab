"""A URLconf for tests only: the project's URLs plus a portal view and an API view that fail
with an unexpected exception, to see what a real server error answers and logs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.v1.views.base import ApiView
from ucfleet.config import urls as project


def failing_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(1 / 0))


class FailingApiView(ApiView):
    def get(self, request: Request) -> Response:
        return Response({"value": 1 / 0})


urlpatterns = [
    path("api/v1/failing/", FailingApiView.as_view()),
    path("failing-page/", failing_page),
    *project.urlpatterns,
]
# The project's error handlers, where it has them (Django's defaults otherwise).
handler400 = getattr(project, "handler400", "django.views.defaults.bad_request")
handler500 = getattr(project, "handler500", "django.views.defaults.server_error")
