"""What the operator commands share: who acts, and how errors read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandError

from ucfleet.accounts.models import Administrator
from ucfleet.core.errors import DomainError, Invalid


@dataclass(frozen=True)
class Operator:
    """The person at the server's shell, acting platform-wide where no administrator is
    named (`--as`). Whoever can run the CLI can read the database anyway; the change log
    names them "cli"."""

    username: str = "cli"
    pk: None = None
    partner_id: None = None
    is_platform_admin: bool = True
    is_partner_admin: bool = False
    is_advanced: bool = True


def administrator(username: str) -> Administrator:
    try:
        return Administrator.objects.get(username=username)
    except Administrator.DoesNotExist:
        raise CommandError(f"no administrator called {username!r}") from None


def acting(username: str | None) -> Any:
    """The named administrator (their scope and rules apply), or the operator."""
    return administrator(username) if username else Operator()


def domain_error(exc: DomainError) -> CommandError:
    """A service's refusal as a one-screen message."""
    lines = [exc.message]
    if isinstance(exc, Invalid):
        for field, messages in exc.errors.items():
            lines += [f"  {field}: {message}" for message in messages if message != exc.message]
    return CommandError("\n".join(lines))
