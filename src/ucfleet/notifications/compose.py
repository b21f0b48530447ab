"""E-mail texts: one template file per kind and language,
`templates/notifications/<kind>.<lang>.txt`, whose first line is the subject and the rest,
after a blank line, the body. A digest lists its tasks with `<kind>-task.<lang>.txt`, one
entry per task.

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
def _template(name: str, language: str) -> Template:
    return _engine().get_template(f"{name}.{language}.txt")


def language_of(code: str | None) -> str:
    return code if code in LANGUAGES else "en"


def _text(name: str, language: str, context: dict[str, Any]) -> str:
    return _template(name, language_of(language)).render(Context(context, autoescape=False))


def as_mail(text: str) -> tuple[str, str]:
    """Split a rendered template into (subject, body)."""
    subject, _, body = text.partition("\n")
    # A header must be one line; names come from administrators' input.
    subject = " ".join(subject.split())[:SUBJECT_MAX]
    return subject, body.strip("\n") + "\n"


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of an e-mail of `kind` in `language`."""
    return as_mail(_text(kind, language, context))


class BulkRenderer:
    """Renders one template for many items (100,000 customer e-mails, the task lines of a
    digest) that differ only in a few plain-text fields, the `varying` ones: each distinct
    rest of the context is rendered once, with markers in place of the varying fields, and
    each item substitutes its own values. A template may therefore show a varying field
    only as it is (`{{ tenant }}`), never test or filter it; the tests compare this with
    `render` for every kind.
    """

    def __init__(self, name: str, *, varying: tuple[str, ...] = ("tenant", "domain")) -> None:
        self.name = name
        self.varying = varying
        self._rendered: dict[tuple[Any, ...], str] = {}

    def text(self, language: str, context: dict[str, Any]) -> str:
        # Contexts come from one builder, so their key order is stable; another order would
        # only cost a second rendering.
        key = (language, *((k, v) for k, v in context.items() if k not in self.varying))
        text = self._rendered.get(key)
        if text is None:
            markers = {k: f"\x00{k}\x00" for k in self.varying}
            text = self._rendered[key] = _text(self.name, language, {**context, **markers})
        for k in self.varying:
            text = text.replace(f"\x00{k}\x00", str(context.get(k, "")))
        return text


class Formatter:
    """Server time with its zone named (R3) and the manual's labels, for one language."""

    def __init__(self, tz: ZoneInfo, language: str) -> None:
        self.tz = tz
        self.language = language_of(language)
        self.labels = LABELS[self.language]
        self._times: dict[datetime | None, str] = {}

    def time(self, value: datetime | None) -> str:
        # A request's tasks share a handful of start times: format each once.
        text = self._times.get(value)
        if text is None:
            text = self._times[value] = format_server_time(value, self.tz)
        return text

    def label(self, code: str) -> str:
        return self.labels.get(code, code)
