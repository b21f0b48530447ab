"""`ucfleet rollouts list|show|pause|resume|abort|retry-failed` (R18, R22): the rollouts
services from the shell, with the same rules as the portal and the API (`--as USER`)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.accounts.management.commands._support import acting, domain_error
from ucfleet.core.errors import DomainError
from ucfleet.core.ids import parse_id
from ucfleet.rollouts import services
from ucfleet.rollouts.choices import RolloutStatus
from ucfleet.rollouts.queries import filter_rollouts, get_rollout_for, rollouts_visible_to
from ucfleet.rollouts.records import rollout_record, rollout_summary
from ucfleet.tenants.queries import partners_visible_to

ACTIONS = {
    "pause": services.pause,
    "resume": services.resume,
    "abort": services.abort,
    "retry-failed": services.retry_failed,
}


class Command(BaseCommand):
    help = (
        "Rollouts: list them, show one (counts and waves), pause, resume, abort, or retry "
        "its failed tasks as a new rollout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as", dest="as_user", metavar="USER", help="act as this administrator"
        )
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="rollouts, newest first")
        listing.add_argument("--status", choices=RolloutStatus.values)
        listing.add_argument("--partner", metavar="NAME|ID")
        listing.add_argument("--limit", type=int, default=50, help="at most this many (0 = all)")
        listing.add_argument("--json", action="store_true", help="JSON, one object per line")
        show = sub.add_parser("show", help="one rollout with its counts and waves")
        show.add_argument("rollout", metavar="ID")
        show.add_argument("--json", action="store_true")
        for name, text in (
            ("pause", "nothing new starts; running tasks finish"),
            ("resume", "held tasks of released waves continue"),
            ("abort", "cancel every planned or held task (cancellation e-mails)"),
            ("retry-failed", "a new rollout with the same options over the failed tenants"),
        ):
            action = sub.add_parser(name, help=text)
            action.add_argument("rollout", metavar="ID")

    def handle(self, *args: Any, **options: Any) -> None:
        admin = acting(options.pop("as_user", None))
        action = options["action"]
        try:
            if action == "list":
                self._list(admin, options)
                return
            if action == "show":
                rollout = get_rollout_for(admin, options["rollout"])
                self._show(rollout_record(admin, rollout), as_json=options["json"])
                return
            rollout = ACTIONS[action](admin, options["rollout"])
        except DomainError as exc:
            raise domain_error(exc) from None
        verb = {
            "pause": "Paused",
            "resume": "Resumed",
            "abort": "Aborted",
            "retry-failed": "Created",
        }[action]
        self.stdout.write(self.style.SUCCESS(f"{verb} rollout {rollout.pk} ({rollout.name})."))
        self._show(rollout_record(admin, get_rollout_for(admin, rollout.pk)), as_json=False)

    def _list(self, admin: Any, options: dict[str, Any]) -> None:
        partner_id = None
        if options["partner"]:
            partners = partners_visible_to(admin)
            partner = partners.filter(name=options["partner"]).first()
            if partner is None and (pk := parse_id(options["partner"])) is not None:
                partner = partners.filter(pk=pk).first()
            if partner is None:
                raise CommandError(f"no such partner: {options['partner']}")
            partner_id = partner.pk
        rollouts = filter_rollouts(
            admin,
            rollouts_visible_to(admin).select_related("target_version", "created_by"),
            status=options["status"],
            partner_id=partner_id,
        )
        shown = list(rollouts[: options["limit"]] if options["limit"] > 0 else rollouts)
        for rollout in shown:
            summary = rollout_summary(admin, rollout)
            if options["json"]:
                self.stdout.write(json.dumps(summary))
            else:
                self.stdout.write(
                    f"{rollout.pk:>6}  {summary['status']:<9}  {summary['created'][:16]}  "
                    f"{summary['target_version']:<10}  {rollout.name}"
                )
        if not options["json"]:
            self.stdout.write(f"{len(shown)} rollout(s)")

    def _show(self, record: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(record))
            return
        self.stdout.write(f"Rollout {record['id']}: {record['name']} — {record['status']}")
        if record["paused_reason"]:
            self.stdout.write(f"Paused because: {record['paused_reason']}")
        budget = record["error_budget"]
        self.stdout.write(
            f"Target {record['target_version']} · {record['timing']} · soak "
            f"{record['soak_minutes']} min · error budget "
            f"{json.dumps(budget) if budget else 'none'}"
        )
        self.stdout.write(_counts(record["counts"]))
        for wave in record["waves"]:
            self.stdout.write(
                f"  wave {wave['index']}: {wave['size']} tenant(s), {wave['status']} — "
                f"{_counts(wave['counts'])}"
            )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items() if value) or "no tasks"
