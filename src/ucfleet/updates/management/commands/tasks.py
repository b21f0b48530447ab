"""`ucfleet tasks`: list and filter update tasks."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from ucfleet.accounts.management.commands._support import acting
from ucfleet.core.ids import parse_id
from ucfleet.core.timeutils import format_server_time
from ucfleet.maintenance.queries import server_zone
from ucfleet.updates.choices import Status, TaskType, Timing
from ucfleet.updates.queries import tasks_visible_to, with_list_relations
from ucfleet.updates.records import task_record


def _choice(value: str) -> str:
    return value.replace("-", "_")


class Command(BaseCommand):
    help = (
        "List update tasks (soonest start first) with filters; --json prints them as the API does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--status",
            type=_choice,
            choices=Status.values,
            action="append",
            help="planned | held | in_progress | executed | failed | cancelled (repeatable)",
        )
        parser.add_argument("--partner", metavar="NAME|ID")
        parser.add_argument("--tenant", metavar="NAME|ID")
        parser.add_argument("--timing", type=_choice, choices=Timing.values)
        parser.add_argument("--type", dest="task_type", choices=TaskType.values)
        forced = parser.add_mutually_exclusive_group()
        forced.add_argument(
            "--forced", dest="forced", action="store_true", default=None, help="forced tasks only"
        )
        forced.add_argument(
            "--not-forced", dest="forced", action="store_false", help="tasks that are not forced"
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="at most this many (default 100; 0 = all)"
        )
        parser.add_argument("--json", action="store_true", help="JSON, one object per line")
        parser.add_argument(
            "--as", dest="as_user", metavar="USER", help="list what this administrator may see"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        admin = acting(options["as_user"])
        tasks = with_list_relations(tasks_visible_to(admin))
        if options["status"]:
            tasks = tasks.filter(status__in=options["status"])
        for name in ("partner", "tenant"):
            ref = options[name]
            if ref:
                match = Q(**{f"{name}__name": ref})
                if (pk := parse_id(ref)) is not None:
                    match |= Q(**{f"{name}_id": pk})
                tasks = tasks.filter(match)
        if options["timing"]:
            tasks = tasks.filter(timing=options["timing"])
        if options["task_type"]:
            tasks = tasks.filter(task_type=options["task_type"])
        if options["forced"] is not None:
            tasks = tasks.filter(is_forced=options["forced"])
        tasks = tasks.order_by("earliest_start", "id")
        total = tasks.count()
        shown = list(tasks[: options["limit"]] if options["limit"] > 0 else tasks)
        if options["json"]:
            for task in shown:
                self.stdout.write(json.dumps(task_record(task)))
            return
        self._table(shown)
        self.stdout.write(f"{len(shown)} of {total} task(s)")

    def _table(self, tasks: list[Any]) -> None:
        zone = server_zone()
        rows = [["ID", "UC tenant", "Partner", "Target", "Timing", "Start", "Status", "Forced"]]
        for t in tasks:
            rows.append(
                [
                    str(t.pk),
                    t.tenant.name,
                    t.partner.name,
                    t.target_version.name,
                    t.timing,
                    format_server_time(t.earliest_start, zone, with_zone=False),
                    t.status,
                    "yes" if t.is_forced else "",
                ]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            )
        if tasks:
            self.stdout.write(f"(times in server time, {zone.key})")
