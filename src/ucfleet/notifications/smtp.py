"""One delivery attempt of one outbox message, and what its failure means.

Django's SMTP backend hands the whole message to `smtplib.sendmail`, which drops recipients
the server refuses as long as one is accepted, and says nothing about whether a refusal is
temporary (4xx: try again) or permanent (5xx: it will never work). The outbox needs both, so
for the SMTP backend this module speaks the envelope itself, recipient by recipient, on the
connection Django opened. docs/decisions/0005-outbox-delivery.md has the rules.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address


class DeliveryFailed(Exception):
    """An attempt failed; `permanent` when trying again cannot help (a 5xx answer about this
    message). `text` is the reason shown in the outbox: the server's answer where there is
    one."""

    def __init__(self, text: str, *, permanent: bool) -> None:
        super().__init__(text)
        self.text = text[:2000]
        self.permanent = permanent


def server_answer(code: int, message: bytes | str) -> str:
    """`550 5.1.1 mailbox unavailable`, as the server said it."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}".strip()


def _refusals(answers: dict[str, str]) -> str:
    return "; ".join(f"{answer} ({address})" for address, answer in answers.items())


def as_failure(error: BaseException) -> DeliveryFailed:
    """What an exception from a delivery attempt means for the message.

    Only a 5xx about this message (its recipients, its content) is permanent. A 5xx during
    connect, greeting, authentication or to our sender address is about the server or our
    account and would refuse every message alike: that is retried like an outage (with the
    answer as the reason), so a configuration mistake fixed within the retry window loses
    nothing. Everything else — 4xx answers, refused or reset connections, timeouts — is
    transient."""
    if isinstance(error, DeliveryFailed):
        return error
    if isinstance(error, smtplib.SMTPRecipientsRefused):  # every recipient refused
        answers = {a: server_answer(code, msg) for a, (code, msg) in error.recipients.items()}
        codes = [code for code, _ in error.recipients.values()]
        return DeliveryFailed(_refusals(answers), permanent=all(c >= 500 for c in codes))
    if isinstance(error, smtplib.SMTPDataError):
        answer = server_answer(error.smtp_code, error.smtp_error)
        return DeliveryFailed(answer, permanent=error.smtp_code >= 500)
    if isinstance(error, smtplib.SMTPResponseException):
        answer = server_answer(error.smtp_code, error.smtp_error)
        return DeliveryFailed(f"{type(error).__name__}: {answer}", permanent=False)
    return DeliveryFailed(f"{type(error).__name__}: {error}", permanent=False)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message ready for SMTP: its envelope addresses and its bytes (built ahead of the
    SMTP transaction, so that building the next one overlaps waiting for the server)."""

    message: EmailMessage
    sender: str
    recipients: list[str]
    data: bytes


def prepare(message: EmailMessage) -> Envelope:
    encoding = message.encoding or settings.DEFAULT_CHARSET
    return Envelope(
        message,
        _sender_address(message.from_email, encoding),
        [_envelope_address(address, encoding) for address in message.recipients()],
        message.message().as_bytes(linesep="\r\n"),
    )


def deliver(mail: BaseEmailBackend, message: EmailMessage | Envelope) -> dict[str, str]:
    """Send `message` over the open backend `mail`. Returns the recipients the server refused
    for good while it accepted the message for the others ({address: answer}); raises
    `DeliveryFailed` or the transport's own error otherwise."""
    if isinstance(mail, SmtpBackend) and mail.connection is not None:
        envelope = message if isinstance(message, Envelope) else prepare(message)
        return _deliver_over_smtp(mail.connection, envelope)
    plain = message.message if isinstance(message, Envelope) else message
    mail.send_messages([plain])  # file or memory backends: nothing is refused
    return {}


# An address that `sanitize_address` returns unchanged: plain ASCII, lower-case domain.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[a-z0-9.\-]+")


@lru_cache(maxsize=64)
def _sender_address(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)  # the same From on every message: once


def _envelope_address(address: str, encoding: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return address  # (what sanitize_address would return, without parsing it)
    return sanitize_address(address, encoding)


def _deliver_over_smtp(smtp: smtplib.SMTP, envelope: Envelope) -> dict[str, str]:
    """`smtplib.sendmail`, but deciding per recipient.

    Any temporary refusal: nobody gets the message now (RSET) and the whole attempt is
    retried, so no recipient ever receives it twice. Permanent refusals of some recipients
    while others are accepted: the message goes to the accepted ones and the refused ones
    are reported (they would be refused again). Every recipient refused for good: permanent.
    """
    sender, recipients, data = envelope.sender, envelope.recipients, envelope.data
    smtp.ehlo_or_helo_if_needed()
    options = [f"size={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, answer = smtp.mail(sender, options)
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    accepted: list[str] = []
    temporary: dict[str, str] = {}
    permanent: dict[str, str] = {}
    for recipient in recipients:
        code, answer = smtp.rcpt(recipient)
        if code in (250, 251):
            accepted.append(recipient)
        else:
            (permanent if code >= 500 else temporary)[recipient] = server_answer(code, answer)
    if temporary or not accepted:
        _reset(smtp)
        raise DeliveryFailed(_refusals({**temporary, **permanent}), permanent=not temporary)
    code, answer = smtp.data(data)
    if code != 250:
        _reset(smtp)
        raise DeliveryFailed(server_answer(code, answer), permanent=code >= 500)
    return permanent


def refused_note(refused: dict[str, str]) -> str:
    """The outbox's note on a message delivered to all but some recipients."""
    return f"not delivered to every recipient: {_refusals(refused)}"[:2000] if refused else ""


def _reset(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):  # the connection may be gone
        smtp.rset()


class MailSession:
    """One SMTP connection for several `send_due` calls (the worker's housekeeping turn):
    opened at the first message, kept while it works, replaced after a broken one."""

    def __init__(self) -> None:
        self.mail: BaseEmailBackend | None = None

    def open(self) -> BaseEmailBackend:
        if self.mail is None:
            mail = get_connection(fail_silently=False)
            mail.open()
            self.mail = mail
        return self.mail

    def discard(self) -> None:
        close_quietly(self.mail)
        self.mail = None

    def close(self) -> None:
        self.discard()

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def close_quietly(mail: BaseEmailBackend | None) -> None:
    """Close a connection whose state is unknown after an error; the next message opens a
    fresh one."""
    if mail is not None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail too
            mail.close()
