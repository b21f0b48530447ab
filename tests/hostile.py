"""Hostile input for the black-box crawls of the portal and the API: the corpus, the check
that no markup comes back unescaped, and the tally of requests tried and 500s found (printed
at the end of the run, see tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A lone surrogate: JSON can carry it escaped ("\ud800"); a form or a query string can only
# carry its would-be UTF-8 bytes, which are not UTF-8 (RAW_SURROGATE marks where they go).
SURROGATE = "\ud800"
RAW_SURROGATE = "\x00RAW-SURROGATE\x00"
RAW_SURROGATE_BYTES = "%ED%A0%80"

MARKUP = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']

CORPUS: dict[str, list[Any]] = {
    "far_dates": [
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "9999-12-31T22:00:00Z",
        "9999-12-31",
        "0001-01-01",
    ],
    "surrogates": [SURROGATE, "a" + SURROGATE + "b"],
    "long": ["x" * 20_000, "9" * 20_000],
    "markup": MARKUP,
    "numbers": ["99999999999999999999", "-1", "1e309", "0", "-99999999999999999999", "NaN"],
    "digits": ["²", "٣", "１２"],
    "controls": ["a\r\nb", "\x00", "\u2028"],
}
CATEGORIES = list(CORPUS)
# JSON bodies take more than text: numbers, nulls and the wrong types.
JSON_EXTRA: dict[str, list[Any]] = {
    "numbers": [99999999999999999999, -1, 1e308, 0, -(2**70), 1.5],
    "types": [None, [], {}, True, [[[[]]]], {"a": [1]}, ""],
}
JSON_CATEGORIES = [*CATEGORIES, "types"]


def json_corpus(category: str) -> list[Any]:
    values = list(CORPUS.get(category, []))
    values += JSON_EXTRA.get(category, [])
    if category == "numbers":
        values.append("1e309")  # as text; the literal 1e309 is sent raw in the API crawl
    return values


@dataclass
class Tally:
    tried: int = 0
    server_errors: list[str] = field(default_factory=list)
    reflected: list[str] = field(default_factory=list)


TALLIES: dict[str, Tally] = {}


def tally(name: str) -> Tally:
    return TALLIES.setdefault(name, Tally())


def reflected_markup(body: bytes) -> str | None:
    """The hostile markup that came back as markup (unescaped), if any."""
    text = body.decode("utf-8", "replace")
    return next((value for value in MARKUP if value in text), None)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…({len(text)} chars)"


def summary_lines() -> list[str]:
    lines = []
    for name in sorted(TALLIES):
        t = TALLIES[name]
        lines.append(
            f"{name}: {t.tried} requests tried, {len(t.server_errors)} answered 500, "
            f"{len(t.reflected)} unsafe (markup unescaped, or a page where JSON belongs)"
        )
        lines += [f"    500: {item}" for item in t.server_errors[:20]]
        lines += [f"    unsafe: {item}" for item in t.reflected[:20]]
    if TALLIES:
        tried = sum(t.tried for t in TALLIES.values())
        errors = sum(len(t.server_errors) for t in TALLIES.values())
        lines.append(f"total: {tried} hostile requests tried, {errors} answered 500")
    return lines
