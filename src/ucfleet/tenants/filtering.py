"""Selection by filter (R19): the one definition of "the tenants that match".

The portal's tenant list, the API's `GET /tenants/` and a schedule request's `filter` all
call `filter_tenants`, so a filter selects exactly the tenants the tenant list shows for the
same filter. It always starts from `tenants_visible_to(actor)` (R1), and a filter that names
something the actor cannot see (another partner, an unknown version or scale unit) is not
found — never an empty or a wider list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.core.errors import NotFound
from ucfleet.tenants.models import Tenant
from ucfleet.tenants.queries import partners_visible_to, scale_units_visible_to, tenants_visible_to

# The longest search text any interface accepts.
MAX_SEARCH = 200


@dataclass(frozen=True)
class TenantFilter:
    """Which tenants a filter means; every criterion narrows, an empty one means "any"."""

    partner_ids: tuple[int, ...] = ()
    # Version ids (int) or names (str); a name wins over an equal id, as everywhere.
    versions: tuple[int | str, ...] = ()
    scale_unit_ids: tuple[int, ...] = ()
    is_productive: bool | None = None
    is_test: bool | None = None
    is_nfr: bool | None = None
    search: str = ""

    @classmethod
    def of(
        cls,
        *,
        partner_ids: Iterable[int] = (),
        versions: Iterable[int | str] = (),
        scale_unit_ids: Iterable[int] = (),
        is_productive: bool | None = None,
        is_test: bool | None = None,
        is_nfr: bool | None = None,
        search: str | None = "",
    ) -> TenantFilter:
        """A filter from any iterables, deduplicated and ordered (so equal filters compare
        equal and a rollout's stored selection is stable)."""
        return cls(
            partner_ids=tuple(sorted(set(partner_ids))),
            versions=tuple(dict.fromkeys(versions)),
            scale_unit_ids=tuple(sorted(set(scale_unit_ids))),
            is_productive=is_productive,
            is_test=is_test,
            is_nfr=is_nfr,
            search=(search or "").strip(),
        )

    def is_empty(self) -> bool:
        return self == TenantFilter()

    def as_json(self) -> dict[str, Any]:
        """The filter in API.md's names (a rollout keeps the selection it was made from)."""
        data: dict[str, Any] = {}
        if self.partner_ids:
            data["partner"] = list(self.partner_ids)
        if self.versions:
            data["version"] = list(self.versions)
        if self.scale_unit_ids:
            data["scale_unit"] = list(self.scale_unit_ids)
        for flag in ("is_productive", "is_test", "is_nfr"):
            if getattr(self, flag) is not None:
                data[flag] = getattr(self, flag)
        if self.search:
            data["search"] = self.search
        return data


def _version_ids(actor: Actor, refs: Iterable[int | str]) -> set[int]:
    from ucfleet.versions.queries import get_version_for

    return {get_version_for(actor, ref).pk for ref in refs}


def _all_visible(found: set[int], wanted: set[int], message: str) -> None:
    if found != wanted:
        raise NotFound(message)


def filter_tenants(actor: Actor, f: TenantFilter) -> QuerySet[Tenant]:
    """The actor's tenants that match `f` (unordered). A partner, version or scale unit the
    actor cannot see raises NotFound (R1: 404, without saying which)."""
    tenants = tenants_visible_to(actor)
    if f.partner_ids:
        wanted = set(f.partner_ids)
        found = set(partners_visible_to(actor).filter(pk__in=wanted).values_list("id", flat=True))
        _all_visible(found, wanted, _("No such partner."))
        tenants = tenants.filter(partner_id__in=sorted(wanted))
    if f.versions:
        tenants = tenants.filter(version_id__in=sorted(_version_ids(actor, f.versions)))
    if f.scale_unit_ids:
        wanted = set(f.scale_unit_ids)
        units = scale_units_visible_to(actor).filter(pk__in=wanted).values_list("id", flat=True)
        _all_visible(set(units), wanted, _("No such scale unit."))
        tenants = tenants.filter(scale_unit_id__in=sorted(wanted))
    for flag in ("is_productive", "is_test", "is_nfr"):
        value = getattr(f, flag)
        if value is not None:
            tenants = tenants.filter(**{flag: value})
    if f.search:
        text = f.search
        tenants = tenants.filter(
            Q(name__icontains=text)
            | Q(domain__icontains=text)
            | Q(customer_id__icontains=text)
            | Q(instance_id__icontains=text)
        )
    return tenants
