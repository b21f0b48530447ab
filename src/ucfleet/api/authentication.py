"""`Authorization: Token <key>`: DRF's header parsing, our hashed tokens (accounts.tokens)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from ucfleet.accounts.tokens import user_for_key


class HashedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, None]:
        user = user_for_key(key)
        if user is None:
            # One answer for unknown, expired, revoked and deactivated: it confirms nothing.
            raise AuthenticationFailed(_("Invalid or expired token."))
        return user, None
