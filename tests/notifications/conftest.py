"""A real SMTP server (aiosmtpd) on 127.0.0.1 and the platform's server time for the
notification tests."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from ucfleet.maintenance.models import MaintenanceWindow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # Django folds an encoded (non-ASCII) subject onto a continuation line; the folding
        # white space is not part of the text a mail program shows.
        return str(self.message["Subject"]).strip()

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")

    @property
    def message_id(self) -> str:
        # A long Message-ID is folded onto a continuation line (RFC 5322 allows the white
        # space before it); the identifier is what follows.
        return str(self.message["Message-ID"]).strip()


REJECTED = "550 5.1.1 mailbox unavailable"
GREYLISTED = "451 4.7.1 greylisted, try again later"


class Recorder:
    """aiosmtpd handler that keeps every message; refuses recipients containing 'reject' for
    good (550) and, while `greylisting`, those containing 'greylist' for now (451)."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.greylisting = True
        self.delay = 0.0  # seconds before answering DATA: a slow relay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return REJECTED
        if "greylist" in address and self.greylisting:
            return GREYLISTED
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server the test can stop and start on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.recorder = Recorder()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if m.rcpt_tos == [address]]


@pytest.fixture
def smtp_settings(settings):
    """Django's SMTP backend pointed at a free local port (nothing listens yet)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "ucfleet <noreply@ucfleet.example>"
    return settings


@pytest.fixture
def smtp_down(smtp_settings):
    """The server that will listen on EMAIL_PORT once the test starts it."""
    server = SmtpServer(smtp_settings.EMAIL_PORT)
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down):
    smtp_down.start()
    return smtp_down


@pytest.fixture
def berlin(db):
    """Server time is Europe/Berlin (CET in winter, CEST in summer)."""
    MaintenanceWindow.objects.update_or_create(pk=1, defaults={"time_zone": "Europe/Berlin"})
    return "Europe/Berlin"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The administrators here only receive e-mail; PBKDF2 would cost a second per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
