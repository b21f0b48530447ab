"""`ucfleet restore FILE [--force]`: replace ucfleet's database with a backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Replace the contents of ucfleet's database with the backup FILE (made by "
        "`ucfleet backup`). Stop the portal, workers and sender first: restore refuses while "
        "workers are alive unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup to restore")
        parser.add_argument(
            "--force", action="store_true", help="restore even while workers are alive"
        )

    def handle(self, *args: Any, file: str, force: bool, **options: Any) -> None:
        source = Path(file).expanduser().absolute()
        try:
            db = restore(source, force=force)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored {source} into {db.vendor} database {db.label}.")
