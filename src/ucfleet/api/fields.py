"""Serializer fields shared by every API resource."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework import serializers

from ucfleet.core import timebounds
from ucfleet.core.timeutils import UTC, as_aware
from ucfleet.maintenance.queries import server_zone

# The largest id a 64-bit primary key holds; larger numbers are "not found", not a crash.
MAX_ID = 2**63 - 1


def request_zone(context: dict[str, Any]) -> ZoneInfo:
    """Server time for this request: the middleware already read it; the CLI reads it here."""
    request = context.get("request")
    zone = getattr(request, "server_zone", None) if request is not None else None
    return zone if isinstance(zone, ZoneInfo) else server_zone()


def _refuse_out_of_range(value: datetime | date) -> None:
    if not timebounds.is_within(value):
        raise serializers.ValidationError(timebounds.out_of_range_message(), code="out_of_range")


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 in, UTC `Z` out (API.md). A value without offset is server time (R3): a
    wall time in a skipped hour is the first valid instant after it, as everywhere else.
    Input lies within core.timebounds (a wall time is checked before it is converted)."""

    def enforce_timezone(self, value: datetime) -> datetime:
        _refuse_out_of_range(value)
        try:
            if value.tzinfo is None:
                aware = as_aware(value, request_zone(self.context)).astimezone(UTC)
            else:
                aware = value.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("overflow")
            raise  # pragma: no cover - fail() raises
        _refuse_out_of_range(aware)
        return aware

    def to_representation(self, value: Any) -> Any:
        return utc_text(value)


def utc_text(value: Any) -> str | None:
    """A time as the API answers it: ISO 8601 in UTC with `Z`."""
    if value in (None, ""):
        return None
    return str(value.astimezone(UTC).isoformat().replace("+00:00", "Z"))


class BoundedDateField(serializers.DateField):
    """A calendar day within core.timebounds."""

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        _refuse_out_of_range(day)
        return day


class IdField(serializers.IntegerField):
    """A database id: a positive 64-bit whole number."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdOrNameField(serializers.Field):
    """A version given by id (a number) or by its name (a string), as API.md allows."""

    default_error_messages = {"invalid": "Give a version id (number) or a version name (text)."}

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("invalid")
            return data
        if isinstance(data, str) and 0 < len(data) <= 50 and "\x00" not in data:
            return data
        self.fail("invalid")
        raise AssertionError  # pragma: no cover

    def to_representation(self, value: Any) -> Any:
        return value


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only: "yes", 1 or "maybe" are a 400 naming the field, not a
    guess (options that change what happens to a tenant, e.g. `wait_for_idle`)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if data is True or data is False:
            return data
        self.fail("invalid")
        raise AssertionError("unreachable")
