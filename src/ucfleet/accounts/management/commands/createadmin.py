"""`ucfleet createadmin USERNAME --profile … [--partner …]`: an administrator, from the shell."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.actors import OPERATOR
from ucfleet.accounts.choices import PARTNER_PROFILES, Language, Profile
from ucfleet.accounts.management.commands._support import domain_error
from ucfleet.accounts.services import create_administrator
from ucfleet.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create an administrator. Platform profiles see the whole platform; partner "
        "profiles need --partner (name or id). The password is asked for twice on a "
        "terminal, or read from standard input with --password-stdin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--profile",
            required=True,
            choices=Profile.values,
            help="platform | platform_advanced | partner | partner_advanced",
        )
        parser.add_argument("--partner", help="partner name or id (partner profiles)")
        parser.add_argument(
            "--email", default="", help="e-mail address (partner administrators get notices there)"
        )
        parser.add_argument("--language", choices=Language.values, default=Language.EN)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["profile"] in PARTNER_PROFILES and not options["partner"]:
            raise CommandError(f"--partner is required for the profile {options['profile']!r}")
        password = self._password(options["password_stdin"])
        try:
            admin = create_administrator(
                OPERATOR,
                username=options["username"].strip(),
                password=password,
                profile=options["profile"],
                email=options["email"],
                partner=options["partner"],
                language=options["language"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except DomainError as exc:
            raise domain_error(exc) from None
        where = f" of partner {admin.partner.name}" if admin.partner else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Created administrator {admin.username} ({Profile(admin.profile).label}{where})."
            )
        )

    @staticmethod
    def _password(from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for the password on: use --password-stdin.")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The passwords differ.")
        return password
