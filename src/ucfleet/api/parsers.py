"""The API's JSON parser: what cannot be a sane value is refused here, before any serializer,
service or database sees it, with a 400 that names the field.

- Lone surrogates (`"\\ud800"`): valid JSON escapes, but not text: PostgreSQL refuses to
  encode them, SQLite's driver and the JSON renderer raise on them.
- Nesting deeper than MAX_DEPTH: Python's parser recurses, and a body of 1,000 brackets
  raised RecursionError (a 500) on the anonymous token endpoint. No API body nests deeper
  than a few levels.
- Numbers beyond a float (`1e309`): the standard parser reads them as infinity.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def has_lone_surrogate(text: str) -> bool:
    # The json module joins an escaped pair into one code point, so whatever still cannot
    # be encoded as UTF-8 is a lone surrogate.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _walk(data: Any) -> Iterator[tuple[str, Any, int]]:
    """Every value with its dotted path and depth, iteratively (no recursion to exhaust)."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((f"{path}.{key}" if path else str(key), item, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), item, depth + 1))


def refusal(data: Any) -> tuple[str, str] | None:
    """(field, reason) for the first value of `data` the API refuses, else None."""
    for path, value, depth in _walk(data):
        if depth > MAX_DEPTH:
            return "non_field_errors", f"The body nests deeper than {MAX_DEPTH} levels."
        if isinstance(value, dict):
            for key in value:
                if has_lone_surrogate(key):
                    return "non_field_errors", "A field name contains a lone surrogate."
        elif isinstance(value, str) and has_lone_surrogate(value):
            return path or "non_field_errors", "Text must not contain lone surrogates."
        elif isinstance(value, float) and not math.isfinite(value):
            return path or "non_field_errors", "The number is out of range."
    return None


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The body nests deeper than {MAX_DEPTH} levels.") from None
        found = refusal(data)
        if found is not None:
            field, reason = found
            raise ValidationError({field: [reason]})
        return data
