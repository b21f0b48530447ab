"""Query parameters (filters) validated like bodies: a bad value answers 400, never 500.

Filters are declared as small serializers, so drf-spectacular documents them (with types,
enums and bounds) from the same declaration that validates them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ucfleet.api.fields import MAX_ID
from ucfleet.core.errors import Invalid, NotFound


def validated_query(
    serializer_class: type[serializers.Serializer], request: Any, **context: Any
) -> dict[str, Any]:
    # A plain dict, not the QueryDict: DRF reads a missing boolean in a QueryDict as False
    # (HTML form semantics), which would turn an absent filter into "false".
    data = {key: request.query_params.get(key) for key in request.query_params}
    serializer = serializer_class(data=data, context={"request": request, **context})
    if not serializer.is_valid():
        raise Invalid(
            "Invalid filter.",
            errors={
                key: [str(message) for message in messages]
                for key, messages in serializer.errors.items()
            },
        )
    return dict(serializer.validated_data)


def path_id(raw: Any) -> int:
    """An id from the URL; anything that is not one is simply not found."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise NotFound("Not found.")
    return int(text)
