"""What the operator commands share: who acts, and how errors read."""

from __future__ import annotations

from django.core.management.base import CommandError

from ucfleet.accounts.actors import OPERATOR, Actor
from ucfleet.accounts.models import Administrator
from ucfleet.core.errors import DomainError, Invalid


def administrator(username: str) -> Administrator:
    try:
        return Administrator.objects.get(username=username)
    except Administrator.DoesNotExist:
        raise CommandError(f"no administrator called {username!r}") from None


def acting(username: str | None) -> Actor:
    """The named administrator (their scope and rules apply), or the operator (`OPERATOR`:
    platform-wide, named "cli" in the change log)."""
    return administrator(username) if username else OPERATOR


def domain_error(exc: DomainError) -> CommandError:
    """A service's refusal as a one-screen message."""
    lines = [exc.message]
    if isinstance(exc, Invalid):
        for field, messages in exc.errors.items():
            lines += [f"  {field}: {message}" for message in messages if message != exc.message]
    return CommandError("\n".join(lines))
