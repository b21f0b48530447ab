"""API tokens (DRF authtoken): one per administrator, shared by the API login and the CLI."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token


def token_for(admin: Any) -> Token:
    """The administrator's token, created on first use (what `POST /auth/token/` answers)."""
    token, _ = Token.objects.get_or_create(user=admin)
    return token


def issue_new_token(admin: Any) -> Token:
    """A fresh key for the administrator; any earlier key stops working at once."""
    with transaction.atomic():
        Token.objects.filter(user=admin).delete()
        return Token.objects.create(user=admin)


def revoke_token(admin: Any) -> bool:
    """Delete the administrator's token; True when there was one."""
    deleted, _ = Token.objects.filter(user=admin).delete()
    return deleted > 0
