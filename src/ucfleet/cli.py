"""The `ucfleet` command.

Each operator command is a Django management command in the app it belongs to (so it gets
`--help`, option parsing and settings for free); this entry point only sets up Django and
accepts the hyphenated names operators type (`import-tenants` for `import_tenants`).
"""

from __future__ import annotations

import os
import sys

OPERATOR_COMMANDS = {
    "run": "start portal, workers and e-mail sender, supervised (SQLite demo: migrate, seed)",
    "worker": "run a worker process (tasks and e-mail outbox); --burst stops when idle",
    "createadmin": "create an administrator with a profile",
    "token": "create or revoke an API token",
    "import-tenants": "import UC tenants from CSV (all or nothing)",
    "export-tenants": "export UC tenants as CSV",
    "schedule": "schedule update tasks (preview, then confirm)",
    "tasks": "list and filter update tasks",
    "rollouts": "list, show, pause, resume, abort rollouts; retry their failed tasks",
    "send-outbox": "send queued e-mails without running a worker; --burst stops when done",
    "seed-demo": "create the demo data",
    "seed-scale": "fill an empty database with a large platform (--tenants 1000000)",
    "demo-credentials": "print the demo sign-ins again",
    "migrate": "create or upgrade the database",
    "backup": "back up ucfleet's own database to FILE (SQLite file or pg_dump -Fc)",
    "restore": "restore ucfleet's database from a backup FILE (workers stopped)",
    "simulator": "run the UC provisioning simulator (the http driver's peer, docs/drivers.md)",
}


def _usage() -> str:
    width = max(len(name) for name in OPERATOR_COMMANDS)
    lines = ["usage: ucfleet COMMAND [options]   (ucfleet COMMAND --help for details)", ""]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in OPERATOR_COMMANDS.items()]
    lines += ["", "Every Django management command works too (ucfleet help --commands)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, prog: str = "ucfleet") -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    if args[0] == "simulator":  # a process of its own: no Django, no database
        from ucfleet.simulator.server import main as simulator_main

        return simulator_main(args[1:], prog=f"{prog} simulator")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
    from django.core.management import execute_from_command_line

    args[0] = args[0].replace("-", "_")
    execute_from_command_line([prog, *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
