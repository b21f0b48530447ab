from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from ucfleet.api.parsers import SafeJSONParser
from ucfleet.api.permissions import refuse_partner_during_maintenance
from ucfleet.api.schema import ApiAutoSchema
from ucfleet.api.tokens import token_for


class LoginLockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = "Too many failed logins: this account is locked for a while."


class TokenView(ObtainAuthToken):
    """`POST /api/v1/auth/token/` with `{"username", "password"}` → `{"token"}`.

    The same key every time until it is revoked (`ucfleet token revoke USER`)."""

    schema = ApiAutoSchema()
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # ObtainAuthToken's own list, with the API's JSON parser (no RecursionError, no surrogates).
    parser_classes = (FormParser, MultiPartParser, SafeJSONParser)
    extra_error_codes = ["429", "503"]

    @extend_schema(
        operation_id="auth_token_create",
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={200: inline_serializer("TokenAnswer", {"token": serializers.CharField()})},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes marks the request when this username/address is locked out.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut()
            serializer.is_valid(raise_exception=True)
        admin = serializer.validated_data["user"]
        refuse_partner_during_maintenance(admin, request)
        return Response({"token": token_for(admin).key})
