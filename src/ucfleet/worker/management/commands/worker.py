"""`ucfleet worker`: run a worker process (update tasks and the e-mail outbox)."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ucfleet.worker.registry import WorkerNameInUse
from ucfleet.worker.runner import run_worker


class Command(BaseCommand):
    help = (
        "Run a worker: claims due update tasks and executes them with the configured driver, "
        "recovers tasks of lost workers, and sends due e-mails. Stops gracefully on SIGTERM "
        "or Ctrl-C (a second signal stops at once)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst",
            action="store_true",
            help="stop when no task is due and none is in progress (for tests and scripts)",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            metavar="N",
            help="tasks run at once by this process (default: UCFLEET_WORKER_CONCURRENCY)",
        )
        parser.add_argument(
            "--name",
            default=None,
            help="this worker's name (default: host:pid:random); must be unique among live workers",
        )

    def handle(self, *args: object, **options: object) -> None:
        concurrency = options["concurrency"]
        if concurrency is not None and int(concurrency) < 1:  # type: ignore[call-overload]
            raise CommandError("--concurrency must be at least 1")
        if int(options["verbosity"]) > 0:  # type: ignore[call-overload]
            logging.getLogger("ucfleet").setLevel(
                logging.DEBUG if int(options["verbosity"]) > 1 else logging.INFO  # type: ignore[call-overload]
            )
        try:
            summary = run_worker(
                name=options["name"] or None,  # type: ignore[arg-type]
                concurrency=concurrency,  # type: ignore[arg-type]
                burst=bool(options["burst"]),
                install_signal_handlers=True,
            )
        except (WorkerNameInUse, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["burst"]:
            self.stdout.write(
                f"executed {len(summary.executed)}, failed {len(summary.failed)}, "
                f"handed back {len(summary.handed_back)}, recovered {len(summary.recovered)}, "
                f"missed windows moved {len(summary.missed_moved)} / failed "
                f"{len(summary.missed_failed)}"
            )
