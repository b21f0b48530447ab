"""`ucfleet export-tenants [--partner …] [--output FILE]`: CSV that import-tenants reads."""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.management.commands._support import acting
from ucfleet.audit.csv import spreadsheet_safe_cell
from ucfleet.core.ids import parse_id
from ucfleet.tenants.importing import export_rows
from ucfleet.tenants.queries import partners_visible_to


class Command(BaseCommand):
    help = (
        "Export UC tenants as CSV (the columns import-tenants reads, plus instance_id) "
        "to standard output or --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", help="only this partner's tenants (name or id)")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")
        parser.add_argument(
            "--as", dest="as_user", metavar="USER", help="export what this administrator may see"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = acting(options["as_user"])
        partner_id = None
        if options["partner"]:
            ref = options["partner"]
            partners = partners_visible_to(actor)
            partner = partners.filter(name=ref).first()
            if partner is None and (pk := parse_id(ref)) is not None:
                partner = partners.filter(pk=pk).first()
            if partner is None:
                raise CommandError(f"no partner called {ref!r}")
            partner_id = partner.pk
        rows = export_rows(actor, partner=partner_id)
        if options["output"]:
            try:
                with open(options["output"], "w", encoding="utf-8", newline="") as stream:
                    count = self._write(stream, rows)
            except OSError as exc:
                raise CommandError(f"cannot write {options['output']}: {exc.strerror}") from None
            self.stderr.write(f"Exported {count} UC tenants to {options['output']}.")
        else:
            self._write(self.stdout, rows)

    @staticmethod
    def _write(stream: Any, rows: Any) -> int:
        writer = csv.writer(stream)
        count = -1
        for row in rows:
            # Names and descriptions are typed by administrators: no cell runs as a formula
            # (import-tenants reads the quoted cells back as they were).
            writer.writerow([spreadsheet_safe_cell(cell) for cell in row])
            count += 1
        return count
