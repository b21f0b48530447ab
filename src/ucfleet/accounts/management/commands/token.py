"""`ucfleet token create USER` / `ucfleet token revoke USER`: API tokens from the shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.management.commands._support import administrator
from ucfleet.accounts.tokens import issue_token, revoke_tokens


class Command(BaseCommand):
    help = (
        "Create or revoke an administrator's API tokens (Authorization: Token <key>). "
        "`create` prints a new key, the only time it is shown (only its hash is stored); "
        "it expires after UCFLEET_TOKEN_DAYS days. `--replace` revokes the earlier keys first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a token and print its key once")
        create.add_argument("user", help="the administrator's user name")
        create.add_argument(
            "--replace", action="store_true", help="revoke the earlier tokens of the user first"
        )
        revoke = actions.add_parser("revoke", help="delete all the user's tokens")
        revoke.add_argument("user", help="the administrator's user name")

    def handle(self, *args: Any, **options: Any) -> None:
        admin = administrator(options["user"])
        if options["action"] == "create":
            if not admin.is_active:
                raise CommandError(f"{admin.username} is deactivated")
            if options["replace"]:
                revoke_tokens(admin)
            self.stdout.write(issue_token(admin).key)
        elif revoke_tokens(admin):
            self.stdout.write(self.style.SUCCESS(f"Revoked the API tokens of {admin.username}."))
        else:
            self.stdout.write(f"{admin.username} had no API token.")
