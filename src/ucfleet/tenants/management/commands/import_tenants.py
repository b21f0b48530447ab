"""`ucfleet import-tenants FILE.csv`: all lines or none."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.management.commands._support import acting
from ucfleet.tenants.importing import EXPORT_COLUMNS, REQUIRED_COLUMNS, import_tenants

PROGRESS_FROM = 2000  # smaller files finish before a progress line would help


class Command(BaseCommand):
    help = (
        "Import UC tenants from a CSV file whose first line names the columns "
        f"({', '.join(EXPORT_COLUMNS)}; required: {', '.join(REQUIRED_COLUMNS)}). "
        "Partner, version and scale unit are given by name. Every line is checked first; "
        "if any line is wrong, nothing is imported and each bad line is reported with its "
        "number and reason. Use - to read standard input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file (UTF-8), or - for standard input")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="import as this administrator (a partner administrator "
            "may import for its own partner only)",
        )
        parser.add_argument("--check", action="store_true", help="check every line, import nothing")
        parser.add_argument("--encoding", default="utf-8-sig", help="file encoding")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting(options["as_user"])
        progress = self._progress if self.stderr.isatty() or options["verbosity"] > 1 else None
        try:
            if options["file"] == "-":
                report = import_tenants(
                    actor, sys.stdin, progress=progress, dry_run=options["check"]
                )
            else:
                with open(options["file"], encoding=options["encoding"], newline="") as stream:
                    report = import_tenants(
                        actor, stream, progress=progress, dry_run=options["check"]
                    )
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror or exc}") from None
        except LookupError:
            raise CommandError(f"unknown encoding {options['encoding']!r}") from None
        if not report.ok:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(report.errors)} line(s) are wrong; nothing was imported.")
        if options["check"]:
            self.stdout.write(
                self.style.SUCCESS("Every line is right; nothing was imported (--check).")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {report.created} UC tenants."))

    def _progress(self, phase: str, done: int, total: int) -> None:
        if total < PROGRESS_FROM and done != total:
            return
        end = "\n" if done == total else "\r"
        self.stderr.write(f"{phase}: {done}/{total} ({done * 100 // total}%)", ending=end)
        self.stderr.flush()
