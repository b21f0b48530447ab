"""`POST /api/v1/auth/token/`: user name and password for a new API token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ucfleet.accounts.throttling import login_wait
from ucfleet.accounts.tokens import issue_token
from ucfleet.api.permissions import refuse_partner_during_maintenance
from ucfleet.api.schema import ApiAutoSchema


class LoginLockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = "Too many failed logins: this account is locked for a while."


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenView(APIView):
    """A new key on every call (shown this once; only its hash is stored), valid for
    UCFLEET_TOKEN_DAYS. Earlier keys keep working until they expire or are revoked."""

    schema = ApiAutoSchema()
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # The default parsers (settings.REST_FRAMEWORK): the API's JSON parser refuses deep
    # nesting and lone surrogates before anything reads the body.
    extra_error_codes = ["429", "503"]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenAnswer",
                {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
            )
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        wait = login_wait(request, username)
        if wait:
            raise _locked(wait)
        admin = authenticate(
            request=request, username=username, password=serializer.validated_data["password"]
        )
        if admin is None:
            # django-axes marks the request when this username/address is locked out.
            if getattr(request, "axes_locked_out", False):
                raise _locked(None)
            # During a platform maintenance a wrong password answers what a partner's right
            # one does: the answer must not tell which passwords are right.
            refuse_partner_during_maintenance(_AnyPartner(), request)
            raise ValidationError(_("Unable to log in with provided credentials."))
        refuse_partner_during_maintenance(admin, request)
        issued = issue_token(admin)
        # A login like the portal's: django-axes records the success (which clears the
        # account's failure count) and Django updates last_login.
        user_logged_in.send(sender=admin.__class__, request=request, user=admin)
        return Response({"token": issued.key, "expires_at": issued.token.expires_at})


class _AnyPartner:
    is_partner_admin = True


def _locked(wait: int | None) -> LoginLockedOut:
    error = LoginLockedOut()
    error.wait = wait  # type: ignore[attr-defined]
    return error
