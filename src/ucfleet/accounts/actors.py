"""Who acts on a service: an administrator, or the system itself.

Services take an `Actor`. `System` is the explicit actor without an account and with every
power: the operator at the server's shell (`OPERATOR`, change log "cli") and the worker's
own transitions (`SYSTEM`, change log "system"). Whoever can run the CLI can read the
database anyway, so there is nothing to check for them; nothing passes None for "all powers".
"""

from __future__ import annotations

from dataclasses import dataclass

from ucfleet.accounts.choices import Profile
from ucfleet.accounts.models import Administrator


@dataclass(frozen=True)
class System:
    username: str = "system"
    pk: None = None
    partner_id: None = None
    profile: str = Profile.PLATFORM_ADVANCED
    is_platform_admin: bool = True
    is_partner_admin: bool = False
    is_advanced: bool = True


SYSTEM = System()
OPERATOR = System(username="cli")

Actor = Administrator | System


def partner_scope(admin: Actor) -> int:
    """The one partner whose data a partner administrator sees (R1). A database check ties
    every partner profile to a partner, so the id is always there; asked only after
    `is_platform_admin` is known to be false."""
    partner_id = admin.partner_id
    assert partner_id is not None, "a partner administrator without a partner"
    return partner_id
