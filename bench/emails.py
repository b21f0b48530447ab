"""Benchmark: the customer e-mails of one request (R15) out of the outbox over real SMTP.

N tenants, one request with *Send e-mail (customer)*: N outbox rows. The worker's own path
(`Housekeeping.tick`, i.e. `sender.send_due` in its batches) delivers them to an aiosmtpd
server started by the bench in a child process; then the floor, measured in the same run:
a raw `smtplib` loop sending the same messages (the same bytes, built beforehand and not
timed) over one connection to a fresh server of the same kind. Prints both rates and their
ratio beside the goal (>= 0.50), and checks what the server received: every Message-ID once
(0 lost, 0 doubled) and how many connections the sender opened.

(Named emails.py: a bench/email.py would shadow the standard library's `email` package for
a script run from this folder.)

    .venv/bin/python bench/emails.py [--messages 100000]

Runs on SQLite in a temporary folder, or on the database named by UCFLEET_DATABASE_URL (a
database the benchmark may wipe).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

GOAL = 0.50
_ID = re.compile(rb"(?mi)^Message-ID:\s*(<[^>]+>)")


# --- The SMTP server (child process) ------------------------------------------------------


def serve(port: int, stats: Path) -> None:
    """aiosmtpd on 127.0.0.1:`port` counting connections and Message-IDs; writes them to
    `stats` (JSON) on SIGTERM."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    connections = [0]
    ids: Counter[str] = Counter()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            content = envelope.original_content or envelope.content
            head = content.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
            found = _ID.search(head.replace(b"\r\n\t", b" "))
            ids[found.group(1).decode() if found else "(none)"] += len(envelope.rcpt_tos)
            return "250 OK"

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            connections[0] += 1
            super().connection_made(transport)

    class CountingController(Controller):
        def factory(self):
            return CountingSMTP(self.handler, **self.SMTP_kwargs)

    controller = CountingController(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    baseline = connections[0]  # the controller's own readiness check
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM})
    controller.stop()
    stats.write_text(json.dumps({"connections": connections[0] - baseline, "ids": dict(ids)}))


@dataclass
class Received:
    connections: int
    ids: Counter[str]


class Server:
    """The counting SMTP server in a child process (its own core, like a real relay)."""

    def __init__(self, folder: Path, name: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.stats = folder / f"{name}.json"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port), str(self.stats)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the SMTP server did not start: {line!r}")

    def stop(self) -> Received:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        assert self.process.stdout is not None
        self.process.stdout.close()
        data = json.loads(self.stats.read_text())
        return Received(data["connections"], Counter(data["ids"]))


# --- The two senders ----------------------------------------------------------------------


def queue_customer_emails(count: int) -> set[str]:
    """`count` tenants and one request with customer e-mails; returns the expected
    Message-IDs (one per outbox row)."""
    from django.utils import timezone
    from tests.factories import AdministratorFactory

    from ucfleet.accounts.choices import Profile
    from ucfleet.notifications.models import Notification
    from ucfleet.notifications.sender import message_id
    from ucfleet.tenants.models import Partner, Tenant
    from ucfleet.updates.services import ScheduleRequest, schedule_updates
    from ucfleet.versions.models import SoftwareVersion

    admin = AdministratorFactory(username="bench-mail", profile=Profile.PLATFORM)
    old = SoftwareVersion.objects.create(name="14.9")
    new = SoftwareVersion.objects.create(name="14.10")
    partners = [Partner.objects.create(name=f"Partner {i}") for i in range(10)]
    now = timezone.now()
    Tenant.objects.bulk_create(
        (
            Tenant(
                name=f"t{i:06d}",
                domain=f"t{i:06d}.uc.example",
                partner=partners[i % 10],
                language="de" if i % 3 else "en",
                version=old,
                notification_email=f"it@t{i:06d}.example",
                instance_id=f"i-{i:016x}",
                created=now,
                updated=now,
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    schedule_updates(
        admin,
        ScheduleRequest(
            all_tenants=True,
            timing="custom",
            start=now + timezone.timedelta(days=2),
            target_version=new.pk,
            notify_customer=True,
        ),
    )
    keys = Notification.objects.values_list("idempotency_key", flat=True)
    return {message_id(key) for key in keys.iterator(chunk_size=5000)}


def send_with_ucfleet() -> float:
    """The worker's housekeeping until the outbox is empty; returns the seconds taken."""
    from ucfleet.notifications.choices import Status
    from ucfleet.notifications.models import Notification
    from ucfleet.worker.housekeeping import Housekeeping

    housekeeping = Housekeeping(mail_every=0.0, purge_every=1e9)
    housekeeping._next_purge = time.monotonic() + 1e9  # the bench measures the e-mail only
    started = time.perf_counter()
    while Notification.objects.filter(status=Status.QUEUED).exists():
        housekeeping.tick(force_mail=True)
    return time.perf_counter() - started


def send_raw_floor(port: int, *, chunk: int = 5000) -> tuple[float, int]:
    """The same messages (the outbox rows as the sender builds them) with smtplib over one
    connection; only the sending is timed. Returns (seconds, messages)."""
    from django.conf import settings

    from ucfleet.notifications.models import Notification
    from ucfleet.notifications.sender import build_message

    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    smtp.ehlo()
    elapsed, sent = 0.0, 0
    try:
        for offset in range(0, len(ids), chunk):
            rows = Notification.objects.filter(pk__in=ids[offset : offset + chunk])
            messages = [
                (list(n.recipients), build_message(n).message().as_bytes(linesep="\r\n"))
                for n in rows
            ]
            started = time.perf_counter()
            for recipients, data in messages:
                smtp.sendmail(settings.DEFAULT_FROM_EMAIL, recipients, data)
            elapsed += time.perf_counter() - started
            sent += len(messages)
    finally:
        smtp.quit()
    return elapsed, sent


@dataclass
class Result:
    messages: int
    ucfleet_seconds: float
    floor_seconds: float
    lost: int
    doubled: int
    unexpected: int
    connections: int
    floor_connections: int

    @property
    def ratio(self) -> float:
        return (self.messages / self.ucfleet_seconds) / (self.messages / self.floor_seconds)


def run(count: int, folder: Path) -> Result:
    """Queue, send through ucfleet, then the floor; Django must be set up, the database
    empty, EMAIL_* pointing nowhere yet (this sets them)."""
    from django.conf import settings

    expected = queue_customer_emails(count)
    server = Server(folder, "ucfleet")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        seconds = send_with_ucfleet()
    finally:
        received = server.stop()
    floor_server = Server(folder, "floor")
    try:
        floor_seconds, floor_sent = send_raw_floor(floor_server.port)
    finally:
        floor_received = floor_server.stop()
    assert floor_sent == len(expected) == sum(floor_received.ids.values()), "floor incomplete"
    return Result(
        messages=len(expected),
        ucfleet_seconds=seconds,
        floor_seconds=floor_seconds,
        lost=len(expected - set(received.ids)),
        doubled=sum(n - 1 for n in received.ids.values() if n > 1),
        unexpected=len(set(received.ids) - expected),
        connections=received.connections,
        floor_connections=floor_received.connections,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "STATS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return 0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucfleet.config.settings")
    os.environ.setdefault("UCFLEET_DATA_DIR", tempfile.mkdtemp(prefix="ucfleet-bench-"))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.factories
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    with tempfile.TemporaryDirectory(prefix="ucfleet-bench-mail-") as folder:
        result = run(args.messages, Path(folder))
    rate = result.messages / result.ucfleet_seconds
    floor = result.messages / result.floor_seconds
    print(f"{connection.vendor}: {result.messages} customer e-mails of one request")
    print(f"  ucfleet sender: {result.ucfleet_seconds:8.2f} s  {rate:8.0f} msg/s")
    print(f"  raw smtplib   : {result.floor_seconds:8.2f} s  {floor:8.0f} msg/s  (floor)")
    print(f"  ratio {result.ratio:.2f} of the floor (goal >= {GOAL:.2f})")
    print(
        f"  received: lost {result.lost}, doubled {result.doubled}, unexpected "
        f"{result.unexpected}; connections: ucfleet {result.connections}, floor "
        f"{result.floor_connections}"
    )
    ok = not (result.lost or result.doubled or result.unexpected) and result.ratio >= GOAL
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
