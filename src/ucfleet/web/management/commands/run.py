"""`ucfleet run`: everything on one machine — portal, workers (which also send e-mail).

On first start it creates the database and the demo data, and prints the credentials.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ucfleet.demo import has_data, seed_demo
from ucfleet.simulator import onebox
from ucfleet.web.management.commands.seed_demo import print_credentials


class Command(BaseCommand):
    help = "Run the portal, the workers and the e-mail sender (demo data on first start)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=1, help="worker processes (1 is right for SQLite)"
        )
        parser.add_argument("--no-demo", action="store_true", help="do not create demo data")

    def handle(self, *args, host, port, workers, no_demo, **options):
        try:
            simulator = onebox.plan(os.environ, portal_port=port)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo and not has_data():
            print_credentials(self.stdout, seed_demo())
        python = sys.executable
        children = []
        worker_env = None
        if simulator is not None:  # first, so it answers by the workers' first task
            children.append(subprocess.Popen(simulator.argv(python)))
            worker_env = {**os.environ, **simulator.worker_env}
        children += [
            subprocess.Popen(
                [python, "-m", "ucfleet.cli", "worker", "--name", f"worker-{i + 1}"],
                env=worker_env,
            )
            for i in range(workers)
        ]
        children.append(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "ucfleet.config.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "10",
                ]
            )
        )
        self.stdout.write(
            f"ucfleet is running at http://{host}:{port}/ "
            f"(database: {settings.DATABASES['default']['NAME']}); Ctrl+C stops it."
        )
        if simulator is not None:
            driving = "the http driver uses it" if simulator.worker_env else "driver as configured"
            self.stdout.write(
                f"UC provisioning simulator: {onebox.URL_VARIABLE}={simulator.url} ({driving})"
            )
        self._supervise(children)

    def _supervise(self, children: list[subprocess.Popen]) -> None:
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c.args for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            self.stderr.write(f"a process stopped unexpectedly: {failed[0]!r}")
            sys.exit(1)
