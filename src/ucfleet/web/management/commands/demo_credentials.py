"""`ucfleet demo-credentials`: the demo sign-ins again (`ucfleet run` prints them only on
the first start)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ucfleet.demo import demo_credentials
from ucfleet.web.management.commands.seed_demo import print_credentials


class Command(BaseCommand):
    help = "Print the demo administrators that still sign in with the demo password."

    def handle(self, *args: Any, **options: Any) -> None:
        credentials = demo_credentials()
        if not credentials:
            raise CommandError(
                "No demo administrator signs in with the demo password "
                "(no demo data, or every password was changed)."
            )
        print_credentials(self.stdout, credentials)
