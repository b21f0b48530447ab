"""`ucfleet token create USER` / `ucfleet token revoke USER`: API tokens from the shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.management.commands._support import administrator
from ucfleet.api.tokens import issue_new_token, revoke_token, token_for


class Command(BaseCommand):
    help = (
        "Create or revoke an administrator's API token (Authorization: Token <key>). "
        "`create` prints the key; it replaces an earlier key unless --keep is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a token and print its key")
        create.add_argument("user", help="the administrator's user name")
        create.add_argument(
            "--keep", action="store_true", help="print the existing key instead of replacing it"
        )
        revoke = actions.add_parser("revoke", help="delete the token: its key stops working")
        revoke.add_argument("user", help="the administrator's user name")

    def handle(self, *args: Any, **options: Any) -> None:
        admin = administrator(options["user"])
        if options["action"] == "create":
            if not admin.is_active:
                raise CommandError(f"{admin.username} is deactivated")
            token = token_for(admin) if options["keep"] else issue_new_token(admin)
            self.stdout.write(token.key)
        elif revoke_token(admin):
            self.stdout.write(self.style.SUCCESS(f"Revoked the API token of {admin.username}."))
        else:
            self.stdout.write(f"{admin.username} had no API token.")
