"""`ucfleet schedule`: the Update UC Tenants wizard from the shell — the same options, the
same preview, then a confirmation (or --yes)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.actors import Actor
from ucfleet.accounts.management.commands._support import acting, domain_error
from ucfleet.core import timebounds
from ucfleet.core.errors import DomainError
from ucfleet.core.ids import parse_id
from ucfleet.core.timeutils import as_aware, format_server_time
from ucfleet.maintenance.queries import server_zone
from ucfleet.rollouts.waves import parse_waves
from ucfleet.tenants.queries import partners_visible_to, tenants_visible_to
from ucfleet.updates import services
from ucfleet.updates.choices import TaskType, Timing

SHOWN = 20  # rows of each preview list; --verbosity 2 shows all


def _choice(value: str) -> str:
    return value.replace("-", "_")


class Command(BaseCommand):
    help = (
        "Schedule update tasks like the Update UC Tenants wizard: choose tenants (--tenant, "
        "--partner or --all), timing and options; a preview shows what will happen to "
        "each tenant, then you confirm (or pass --yes)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_argument_group("UC tenants (exactly one of)")
        which.add_argument(
            "--tenant",
            action="append",
            metavar="NAME|ID",
            help="a UC tenant; repeat for a selection",
        )
        which.add_argument("--partner", metavar="NAME|ID", help="all tenants of this partner")
        which.add_argument(
            "--all",
            action="store_true",
            help="all tenants on the platform (platform administrators)",
        )
        parser.add_argument(
            "--timing",
            type=_choice,
            required=True,
            choices=Timing.values,
            help="immediate | maintenance_window | custom",
        )
        parser.add_argument(
            "--start",
            help="custom time, e.g. '2026-12-01 22:00' (server time unless an offset is given)",
        )
        parser.add_argument(
            "--target-version",
            "--target",
            dest="target_version",
            required=True,
            metavar="NAME|ID",
            help="Target software version",
        )
        parser.add_argument(
            "--type",
            dest="task_type",
            choices=TaskType.values,
            default=TaskType.UPDATE,
            help="update (default) or recreate",
        )
        parser.add_argument(
            "--forced", action="store_true", help="Forced update (platform administrators only)"
        )
        parser.add_argument("--redeploy", action="store_true", help="Redeployment")
        parser.add_argument(
            "--notify-partner",
            action="store_true",
            help="Send E-mail (to the partner's administrators)",
        )
        parser.add_argument("--notify-customer", action="store_true", help="Send e-mail (customer)")
        parser.add_argument(
            "--no-wait-for-idle",
            dest="wait_for_idle",
            action="store_false",
            help="update a tenant with active calls regardless (default: wait until idle, R25)",
        )
        parser.add_argument(
            "--confirm-downgrade",
            action="store_true",
            help="allow an older target version (compatibility with older "
            "versions cannot be guaranteed)",
        )
        parser.add_argument(
            "--confirm-auto-update-disabled",
            action="store_true",
            help="update a single tenant whose automatic update is off",
        )
        rollout = parser.add_argument_group("rollout (R18, R20, R21)")
        rollout.add_argument("--name", default="", help="default: target version and date")
        rollout.add_argument(
            "--waves",
            metavar="SPEC",
            help="waves as counts or percentages, the last one the rest, e.g. 1%%,10%%,rest",
        )
        rollout.add_argument(
            "--soak-minutes", type=int, default=0, help="wait after a wave ended (default 0)"
        )
        budget = rollout.add_mutually_exclusive_group()
        budget.add_argument("--max-failures", type=int, help="error budget: failed tasks")
        budget.add_argument(
            "--max-failure-percent",
            type=float,
            help="error budget: %% of the ended tasks (counted once 10 have ended)",
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="act as this administrator (their scope and rules apply)",
        )
        parser.add_argument(
            "--yes", "-y", action="store_true", help="create the tasks without asking"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        admin = acting(options["as_user"])
        zone = server_zone()
        request = services.ScheduleRequest(
            tenant_ids=self._tenant_ids(admin, options["tenant"]),
            partner_id=self._partner_id(admin, options["partner"]),
            all_tenants=options["all"],
            timing=options["timing"],
            start=self._start(options["start"], zone),
            target_version=options["target_version"],
            task_type=options["task_type"],
            forced=options["forced"],
            redeploy=options["redeploy"],
            wait_for_idle=options["wait_for_idle"],
            notify_partner=options["notify_partner"],
            notify_customer=options["notify_customer"],
            confirm_downgrade=options["confirm_downgrade"],
            confirm_auto_update_disabled=options["confirm_auto_update_disabled"],
            name=options["name"],
            soak_minutes=options["soak_minutes"],
            max_failures=options["max_failures"],
            max_failure_percent=options["max_failure_percent"],
        )
        try:
            if options["waves"]:
                request.waves = parse_waves(options["waves"])
            plan = services.preview_updates(admin, request)
            self._show(plan, zone, every=options["verbosity"] > 1)
            if not plan.planned:
                raise CommandError("No UC tenant can be updated with these options.")
            if not options["yes"] and not self._confirmed(len(plan.planned)):
                self.stdout.write("Nothing was scheduled.")
                return
            result = services.schedule_updates(admin, request)
        except DomainError as exc:
            raise domain_error(exc) from None
        rollout = f"rollout {result.rollout.pk}, " if result.rollout else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.created_count} update task(s) ({rollout}request "
                f"{result.request_id})."
            )
        )
        if len(result.skipped) > len(plan.skipped):
            self.stdout.write(
                f"{len(result.skipped) - len(plan.skipped)} tenant(s) got an open "
                "task in the meantime and were skipped."
            )

    @staticmethod
    def _tenant_ids(admin: Actor, refs: list[str] | None) -> list[int] | None:
        if not refs:
            return None
        tenants = tenants_visible_to(admin)
        by_name = dict(tenants.filter(name__in=refs).values_list("name", "id"))
        as_id = {r: parse_id(r) for r in refs if r not in by_name}
        numbers = [pk for pk in as_id.values() if pk is not None]
        by_id = set(tenants.filter(pk__in=numbers).values_list("id", flat=True))
        resolved: list[int] = []
        missing: list[str] = []
        for ref in refs:
            pk = by_name.get(ref) or as_id.get(ref)
            if pk is not None and (ref in by_name or pk in by_id):
                resolved.append(pk)
            else:
                missing.append(ref)
        if missing:
            raise CommandError(f"no such UC tenant: {', '.join(missing)}")
        return resolved

    @staticmethod
    def _partner_id(admin: Actor, ref: str | None) -> int | None:
        if ref is None:
            return None
        partners = partners_visible_to(admin)
        partner = partners.filter(name=ref).first()
        if partner is None and (pk := parse_id(ref)) is not None:
            partner = partners.filter(pk=pk).first()
        if partner is None:
            raise CommandError(f"no such partner: {ref}")
        return partner.pk

    @staticmethod
    def _start(text: str | None, zone: Any) -> datetime | None:
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            raise CommandError(
                f"--start {text!r} is not a date and time like '2026-12-01 22:00'"
            ) from None
        out_of_range = CommandError(f"--start {text!r}: {timebounds.out_of_range_message()}")
        # The wall time first (year 1 has no instant east of UTC), then the instant.
        if not timebounds.is_within(value):
            raise out_of_range
        start = as_aware(value, zone)
        if not timebounds.is_within(start):
            raise out_of_range
        return start

    def _show(self, plan: Any, zone: Any, *, every: bool) -> None:
        when = format_server_time(plan.earliest_start, zone)
        if plan.latest_start:
            when += f", latest start {format_server_time(plan.latest_start, zone)}"
        self.stdout.write(
            f"Target software version {plan.target_version.name} · "
            f"{Timing(plan.timing).label} · start {when}"
        )
        self.stdout.write(f"\nPlanned: {len(plan.planned)} UC tenant(s)")
        self._rows([f"{p.tenant_name} ({p.partner_name})" for p in plan.planned], every)
        if len(plan.waves) > 1:
            self.stdout.write("Waves: " + ", ".join(f"{w.index}: {w.size}" for w in plan.waves))
        if plan.skipped:
            self.stdout.write(f"\nSkipped: {len(plan.skipped)}")
            self._rows([f"{s.tenant_name}: {s.reason} — {s.text}" for s in plan.skipped], every)
        if plan.warnings:
            self.stdout.write(f"\nWarnings: {len(plan.warnings)}")
            self._rows([f"{w.tenant_name}: {w.code} — {w.text}" for w in plan.warnings], every)
        self.stdout.write("")

    def _rows(self, lines: list[str], every: bool) -> None:
        shown = lines if every else lines[:SHOWN]
        for line in shown:
            self.stdout.write(f"  {line}")
        if len(shown) < len(lines):
            self.stdout.write(f"  … and {len(lines) - len(shown)} more (--verbosity 2 lists all)")

    def _confirmed(self, count: int) -> bool:
        if not sys.stdin.isatty():
            raise CommandError("No terminal to confirm on: pass --yes to create the tasks.")
        self.stdout.write(f"Create {count} update task(s)? [y/N] ", ending="")
        self.stdout.flush()
        return sys.stdin.readline().strip().lower() in {"y", "yes"}
