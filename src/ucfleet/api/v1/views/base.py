"""What every v1 view shares: token/session auth from settings, the administrator check,
error documentation, safe ids, and paging."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from ucfleet.api.params import path_id
from ucfleet.api.parsers import SafeJSONParser
from ucfleet.api.permissions import IsAdministrator
from ucfleet.api.schema import ApiAutoSchema


class ApiMixin:
    schema: Any = ApiAutoSchema()
    permission_classes: Any = [IsAdministrator]
    # JSON bodies only: the API's lists and nested objects have no faithful form encoding.
    parser_classes: Any = [SafeJSONParser]
    request: Any
    kwargs: dict[str, Any]

    @property
    def admin(self) -> Any:
        return self.request.user

    def object_id(self, name: str = "pk") -> int:
        return path_id(self.kwargs[name])


class ApiView(ApiMixin, APIView):
    pass


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    # Any id-like segment reaches the view, which answers a JSON 404 for what is not an id
    # (the router's default pattern leaves "1.5" to the portal's HTML 404 page).
    lookup_value_regex = "[^/]+"

    def paged(self, queryset: Any, serializer_class: Any = None, **context: Any) -> Response:
        serializer_class = serializer_class or self.get_serializer_class()
        page = self.paginate_queryset(queryset)
        serializer = serializer_class(
            page, many=True, context={**self.get_serializer_context(), **context}
        )
        return self.get_paginated_response(serializer.data)

    def answer(self, instance: Any, serializer_class: Any = None, *, status: int = 200) -> Response:
        serializer_class = serializer_class or self.get_serializer_class()
        return Response(
            serializer_class(instance, context=self.get_serializer_context()).data, status=status
        )
