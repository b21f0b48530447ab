"""`ucfleet run`: everything on one machine — portal, workers (which also send e-mail).

On first start it creates the database and the demo data, and prints the credentials. The
processes are supervised (`ucfleet.supervisor`): one that dies is restarted with back-off;
Ctrl+C or SIGTERM stops them all.
"""

from __future__ import annotations

import os
import socket
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ucfleet.demo import has_data, seed_demo
from ucfleet.simulator import onebox
from ucfleet.supervisor import ChildSpec, Supervisor
from ucfleet.web.management.commands.seed_demo import print_credentials
from ucfleet.worker.heartbeat import HeartbeatSettingsError, check_intervals

STATE_FILE_NAME = "ucfleet-run.json"  # in the data folder: the children's pids


def child_specs(
    *, host: str, port: int, workers: int, simulator: onebox.OneBoxSimulator | None = None
) -> list[ChildSpec]:
    """The processes of one machine. Each is supervised on its own; add one here to run
    another. The UC provisioning simulator comes first, so it answers by the workers' first
    task; the workers get its driver settings (empty when a driver is configured)."""
    python = sys.executable
    specs = []
    worker_env = None
    if simulator is not None:
        specs.append(ChildSpec("simulator", simulator.argv(python)))
        worker_env = {**os.environ, **simulator.worker_env}
    specs += [
        ChildSpec(
            f"worker-{i + 1}",
            [python, "-m", "ucfleet.cli", "worker", "--name", f"worker-{i + 1}"],
            env=worker_env,
        )
        for i in range(workers)
    ]
    specs.append(
        ChildSpec(
            "portal",
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
                # Its default path is one per user: a second `ucfleet run` would share it.
                "--no-control-socket",
            ],
        )
    )
    return specs


def refuse_busy_port(host: str, port: int) -> None:
    """Fail before starting anything when the portal could not listen there."""
    if not 1 <= port <= 65535:
        raise CommandError(f"--port must lie between 1 and 65535, got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise CommandError(f"--host {host!r} is not an address of this machine: {exc}") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}. Is another ucfleet "
                f"(or another program) using that port? Choose another one: "
                f"ucfleet run --port {port + 1}, or make run PORT={port + 1}"
            ) from exc


def portal_answers(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    try:
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


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
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        config = settings.UCFLEET
        try:  # the worker would refuse them too, over and over, restarted each time
            check_intervals(
                heartbeat_seconds=config["WORKER_HEARTBEAT_SECONDS"],
                ttl_seconds=config["WORKER_TTL_SECONDS"],
            )
        except HeartbeatSettingsError as exc:
            raise CommandError(str(exc)) from exc
        refuse_busy_port(host, port)
        simulator = self._simulator(port)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo and not has_data():
            print_credentials(self.stdout, seed_demo())
        supervisor = Supervisor(
            child_specs(host=host, port=port, workers=workers, simulator=simulator),
            state_file=settings.DATA_DIR / STATE_FILE_NAME,
        )
        supervisor.start()
        try:
            supervisor.run(until=lambda: portal_answers(host, port))
            if not supervisor.stopping:
                self.stdout.write(
                    f"ucfleet is running at http://{host}:{port}/ "
                    f"(database: {settings.DATABASES['default']['NAME']}); Ctrl+C stops it."
                )
                if simulator is not None:
                    driving = (
                        "the http driver uses it"
                        if simulator.worker_env
                        else "driver as configured"
                    )
                    self.stdout.write(
                        f"UC provisioning simulator: {onebox.URL_VARIABLE}={simulator.url} "
                        f"({driving})"
                    )
                self.stdout.flush()
            supervisor.run()
        finally:
            supervisor.stop()

    @staticmethod
    def _simulator(port: int) -> onebox.OneBoxSimulator | None:
        """The simulator to start (R27), refused before anything starts when it could not."""
        try:
            simulator = onebox.plan(os.environ, portal_port=port)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if simulator is not None:
            try:
                refuse_busy_port(simulator.host, simulator.port)
            except CommandError:
                raise CommandError(
                    f"cannot start the UC provisioning simulator at {simulator.url}: the port "
                    f"is taken. Set {onebox.URL_VARIABLE} to a free address, or choose another "
                    f"--port (the simulator uses the next one)."
                ) from None
        return simulator
