"""The one range of dates and times ucfleet accepts, from anyone (API, portal, CLI, services).

Nothing an update orchestrator plans lies before 2000 or after 2100, and values near
datetime's own limits (years 1 and 9999) break arithmetic: a custom start plus its grace
period passes year 9999, a wall time in year 1 east of UTC has no instant. So every edge
refuses them with the same message, and the services check again for callers that skip the
edges. Values already stored outside the range are still shown (see `timeutils.to_zone`).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils.translation import gettext as _

from ucfleet.core.errors import Invalid
from ucfleet.core.timeutils import UTC

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def out_of_range_message() -> str:
    return _("Enter a date between %(first)s and %(last)s.") % {
        "first": FIRST_DAY.isoformat(),
        "last": LAST_DAY.isoformat(),
    }


def is_within(value: datetime | date) -> bool:
    """Whether `value` lies in the range. A naive datetime is a wall time: its calendar day
    is compared (it cannot be converted to an instant before it is known to be sane)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return FIRST_DAY <= value.date() <= LAST_DAY
        return EARLIEST <= value <= LATEST
    return FIRST_DAY <= value <= LAST_DAY


def require_within(value: datetime | date | None, field: str) -> None:
    """Invalid (400 naming `field`) when `value` lies outside the range; None passes."""
    if value is not None and not is_within(value):
        raise Invalid.field(field, out_of_range_message(), code="out_of_range")
