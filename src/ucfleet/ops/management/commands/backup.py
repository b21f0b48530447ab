"""`ucfleet backup FILE [--force]`: a consistent copy of ucfleet's database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up ucfleet's own database to FILE while it runs: an SQLite file (online "
        "backup API) or a pg_dump custom-format dump. Restore with `ucfleet restore FILE`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="where to write the backup")
        parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    def handle(self, *args: Any, file: str, force: bool, **options: Any) -> None:
        target = Path(file).expanduser().absolute()
        try:
            db = backup(target, force=force)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from None
        size = target.stat().st_size
        self.stdout.write(
            f"Backed up {db.vendor} database {db.label} to {target} ({size:,} bytes)."
        )
