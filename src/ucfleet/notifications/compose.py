"""E-mail texts: one template file per kind and language,
`templates/notifications/<kind>.<lang>.txt`, whose first line is the subject and the rest,
after a blank line, the body.

Plain per-language files instead of gettext catalogs: an e-mail is a whole text, translated
as a whole, and the outbox must not depend on the portal's .po files being compiled.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.template import Context, Engine, Template

from ucfleet.core.timeutils import format_server_time

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "notifications"
LANGUAGES = ("en", "de")
SUBJECT_MAX = 500

# Labels the texts need, per language (the manual's labels).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "immediate": "Immediately",
        "maintenance_window": "Maintenance window (server time)",
        "custom": "Custom time",
        "update": "Update",
        "recreate": "Re-create",
    },
    "de": {
        "immediate": "Sofort",
        "maintenance_window": "Wartungsfenster (Serverzeit)",
        "custom": "Benutzerdefinierte Zeit",
        "update": "Update",
        "recreate": "Neu erstellen",
    },
}


@cache
def _engine() -> Engine:
    # Plain text: no HTML escaping (a tenant called "A & B" stays "A & B").
    return Engine(
        dirs=[str(TEMPLATE_DIR)],
        autoescape=False,
        loaders=[
            ("django.template.loaders.cached.Loader", ["django.template.loaders.filesystem.Loader"])
        ],
    )


@cache
def _template(kind: str, language: str) -> Template:
    return _engine().get_template(f"{kind}.{language}.txt")


def language_of(code: str | None) -> str:
    return code if code in LANGUAGES else "en"


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of an e-mail of `kind` in `language`."""
    text = _template(kind, language_of(language)).render(Context(context, autoescape=False))
    subject, _, body = text.partition("\n")
    # A header must be one line; names come from administrators' input.
    subject = " ".join(subject.split())[:SUBJECT_MAX]
    return subject, body.strip("\n") + "\n"


class Formatter:
    """Server time with its zone named (R3) and the manual's labels, for one language."""

    def __init__(self, tz: ZoneInfo, language: str) -> None:
        self.tz = tz
        self.language = language_of(language)
        self.labels = LABELS[self.language]

    def time(self, value: datetime | None) -> str:
        return format_server_time(value, self.tz)

    def label(self, code: str) -> str:
        return self.labels.get(code, code)
