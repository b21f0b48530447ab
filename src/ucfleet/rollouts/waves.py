"""Waves and error budgets as given by a request (R20, R21): validated, then split.

Pure functions: the API, the CLI and the wizard pass what the administrator wrote; an
error names its field (`waves`, `soak_minutes`, `error_budget`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from ucfleet.core.errors import Invalid
from ucfleet.updates.choices import Timing

MAX_WAVES = 20
MAX_SOAK_MINUTES = 7 * 24 * 60


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def validate_waves(waves: Sequence[Any] | None, *, timing: str) -> list[dict[str, Any]]:
    """The waves as [{"count": n} | {"percent": p}], or [] for one wave. Custom time
    rollouts have one wave (R20)."""
    if waves is None:
        return []
    if not isinstance(waves, list | tuple):
        raise Invalid.field("waves", _("Give the waves as a list."))
    if len(waves) > MAX_WAVES:
        raise Invalid.field("waves", _("At most %(n)d waves.") % {"n": MAX_WAVES})
    cleaned: list[dict[str, Any]] = []
    for wave in waves:
        if not isinstance(wave, dict) or len(wave) != 1 or not {"count", "percent"} & set(wave):
            raise Invalid.field("waves", _('Give each wave as {"count": n} or {"percent": p}.'))
        if "count" in wave:
            count = wave["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise Invalid.field("waves", _("A wave's count must be a whole number ≥ 1."))
            cleaned.append({"count": count})
        else:
            percent = _number(wave["percent"])
            if percent is None or not 0 < percent <= 100:
                raise Invalid.field(
                    "waves", _("A wave's percentage must lie above 0 and at most 100.")
                )
            cleaned.append({"percent": percent})
    if len(cleaned) > 1 and timing == Timing.CUSTOM:
        raise Invalid.field("waves", _("Custom time rollouts have one wave."))
    return cleaned if len(cleaned) > 1 else []


def validate_soak(minutes: Any) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise Invalid.field("soak_minutes", _("The soak time must be a whole number ≥ 0."))
    if minutes > MAX_SOAK_MINUTES:
        raise Invalid.field("soak_minutes", _("The soak time must be at most 7 days."))
    return minutes


def validate_budget(max_failures: Any, max_failure_percent: Any) -> tuple[int | None, float | None]:
    if max_failures is not None and max_failure_percent is not None:
        raise Invalid.field(
            "error_budget", _("Give either a number of failures or a percentage, not both.")
        )
    if max_failures is not None and (
        isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0
    ):
        raise Invalid.field("error_budget", _("The number of failures must be ≥ 0."))
    if max_failure_percent is not None:
        percent = _number(max_failure_percent)
        if percent is None or not 0 <= percent <= 100:
            raise Invalid.field("error_budget", _("The percentage must lie between 0 and 100."))
        return None, float(percent)
    return max_failures, None


def wave_sizes(total: int, waves: Sequence[dict[str, Any]]) -> list[int]:
    """How many of `total` tenants each wave takes, in order; the last takes the rest.

    Percentages are of the whole (rounded up, so a 1 % canary of 50 tenants is 1 tenant).
    Waves that would be empty are left out; no waves: one wave of everything.
    """
    if total <= 0:
        return []
    if not waves:
        return [total]
    sizes: list[int] = []
    left = total
    for wave in waves[:-1]:
        if left <= 0:
            break
        wanted = wave["count"] if "count" in wave else math.ceil(total * wave["percent"] / 100)
        size = min(max(wanted, 1), left)
        sizes.append(size)
        left -= size
    if left > 0:
        sizes.append(left)
    return sizes


def describe_waves(waves: Sequence[dict[str, Any]]) -> str:
    """`1, 10%, rest` — the CLI's and the change log's notation."""
    if not waves:
        return "rest"
    parts = [str(w["count"]) if "count" in w else f"{w['percent']:g}%" for w in waves[:-1]]
    return ", ".join([*parts, "rest"])


def parse_waves(text: str) -> list[dict[str, Any]]:
    """The CLI's `--waves 1%,10%,rest` (or `1,50,rest`): the last wave is always the rest."""
    items = [part.strip() for part in text.split(",") if part.strip()]
    waves: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if item.lower() == "rest":
            if i != len(items) - 1:
                raise Invalid.field("waves", _('"rest" can only be the last wave.'))
            waves.append({"percent": 100})
            continue
        try:
            if item.endswith("%"):
                waves.append({"percent": float(item[:-1])})
            else:
                waves.append({"count": int(item)})
        except ValueError:
            raise Invalid.field(
                "waves", _("Give waves as counts or percentages, e.g. 1%,10%,rest.")
            ) from None
    if waves and waves[-1] != {"percent": 100}:
        waves.append({"percent": 100})
    return waves
