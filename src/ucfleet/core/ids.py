"""Object ids typed into query strings and forms.

`str.isdigit()` is not enough: it accepts '²' (which int() refuses) and '٣' (which int() reads
as 3), and an id beyond 64 bits makes the database driver raise instead of finding nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

# The largest primary key the database stores (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value: object) -> int | None:
    """`value` as an id (ASCII digits, 0 … MAX_ID, surrounding blanks ignored), else None."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def parse_ids(values: Iterable[object]) -> list[int]:
    """The ids in repeated and/or comma-separated values (`ids=1,2&ids=3`); others dropped."""
    ids = []
    for value in values:
        for part in str(value).split(","):
            number = parse_id(part)
            if number is not None:
                ids.append(number)
    return ids


def lookup_id(value: object) -> int:
    """`value` as an id for a primary-key lookup; 0 (never a key) when it cannot be one, so
    the lookup finds nothing and the caller answers its own "not found"."""
    return parse_id(value) or 0
