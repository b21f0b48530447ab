"""Time helpers: everything is aware and stored in UTC; conversion happens at the edges."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone

UTC = ZoneInfo("UTC")


def now() -> datetime:
    return timezone.now()


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError with a clear text when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_valid_zone(name: str) -> bool:
    return name in available_timezones()


def as_aware(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive value is read in `tz` (server time); an aware one is kept as it is.

    A naive wall time that does not exist (spring-forward gap) moves to the first valid
    instant after it, as window arithmetic does (R3).
    """
    if value.tzinfo is not None:
        return value
    return localize(value, tz)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """The instant at which the wall clock in `tz` shows `naive` (R3).

    Repeated (autumn) wall times take their first instant, so a repeated hour is used once.
    Skipped (spring) wall times take the first valid instant after the gap: the transition.
    """
    first = naive.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # In a gap: fold=0 reads it with the offset before the jump, fold=1 with the one after;
    # the transition lies between those two instants. Bisect to the second.
    a = first.astimezone(UTC)
    b = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(a, b), max(a, b)
    after = hi.astimezone(tz).utcoffset()
    while (hi - lo).total_seconds() > 1:
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)  # transitions fall on whole seconds


def to_zone(value: datetime, tz: Any) -> datetime:
    """`value` as the wall clock in `tz` shows it; in UTC where that lies outside datetime's
    range (a row stored with year 9999 or year 1 before the bounds existed): formatting shows
    such a value rather than crash the page that lists it."""
    try:
        return value.astimezone(tz)
    except OverflowError:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            return value


def format_server_time(value: datetime | None, tz: ZoneInfo, *, with_zone: bool = True) -> str:
    """`2026-12-06 01:00 CET (Europe/Berlin)`: server time with its zone named (R3)."""
    if value is None:
        return ""
    local = to_zone(value, tz)
    text = local.strftime("%Y-%m-%d %H:%M")
    if with_zone:
        text += f" {local.tzname()} ({tz.key})"
    return text
