"""Version semantics: 14.10 is newer than 14.9.

A version string is split into numeric and textual runs; numbers compare as numbers. The
database orders by `sort_key`, a string built so that text order equals version order.
"""

from __future__ import annotations

import re
from functools import lru_cache

_RUN = re.compile(r"(\d+)|([A-Za-z]+)")
_WIDTH = 10


@lru_cache(maxsize=4096)  # a platform has few versions; planning asks per tenant (R5)
def version_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """A tuple that orders like the versions: numbers numerically, text after numbers.

    Every part counts literally, so a suffixed build is newer than its base (14.2 < 14.2a).
    """
    parts: list[tuple[int, int | str]] = []
    for number, text in _RUN.findall(name):
        parts.append((0, int(number)) if number else (1, text.lower()))
    return tuple(parts)


def sort_key(name: str) -> str:
    """Zero-padded text form of `version_key`, for ORDER BY in the database."""
    pieces = []
    for kind, value in version_key(name):
        pieces.append(f"{value:0{_WIDTH}d}" if kind == 0 else f"~{value}")
    return ".".join(pieces)


def is_valid_version_name(name: str) -> bool:
    return bool(re.fullmatch(r"[0-9][0-9A-Za-z.\-_]{0,49}", name))
