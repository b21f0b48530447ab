"""The only writers of partners, scale units and tenants.

Partner and language of a tenant are fixed after creation; its software version changes
only through update tasks. Partner administrators create and edit their own partner's
tenants; everything else here is for platform administrators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.core.chunks import chunks
from ucfleet.core.errors import Forbidden, Invalid, NotFound
from ucfleet.core.ids import parse_id
from ucfleet.core.text import full_clean
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.tenants.queries import get_partner_for, get_tenant_for, partners_visible_to
from ucfleet.versions.models import SoftwareVersion
from ucfleet.versions.queries import get_version_for, versions_visible_to

EDITABLE_FIELDS = (
    "name",
    "domain",
    "description",
    "customer_id",
    "notification_email",
    "is_active",
    "auto_update_allowed",
    "is_productive",
    "is_nfr",
    "is_test",
    "test_until",
    "scale_unit",
)
FIXED_AFTER_CREATION = ("partner", "language", "version", "instance_id")
INSERT_BATCH = 2000


def _full_clean(obj: Any) -> None:
    try:
        full_clean(obj)  # the model's validation, and no control characters in names
    except ValidationError as exc:
        raise Invalid(_("Please correct the marked fields."), errors=_errors(obj, exc)) from None


def _errors(obj: Any, exc: ValidationError) -> dict[str, list[str]]:
    """Field errors; a taken unique value reads "not available", the same whether another
    partner's tenant or one's own has it ("already exists" would confirm foreign names)."""
    errors: dict[str, list[str]] = {}
    for field, field_errors in exc.error_dict.items():
        for error in field_errors:
            if error.code == "unique" and field != NON_FIELD_ERRORS:
                label = obj._meta.get_field(field).verbose_name
                errors.setdefault(field, []).append(
                    _("This %(field)s is not available.") % {"field": label}
                )
            else:
                errors.setdefault(field, []).extend(error.messages)
    return errors


def _resolve_references(admin: Actor, fields: dict[str, Any]) -> dict[str, Any]:
    """Turn ids into objects the admin may use; a foreign id is "not found" (R1)."""
    resolved = dict(fields)
    if "partner" in resolved and not isinstance(resolved["partner"], Partner):
        resolved["partner"] = get_partner_for(admin, resolved["partner"])
    if resolved.get("version") is not None:
        resolved["version"] = get_version_for(
            admin, getattr(resolved["version"], "pk", resolved["version"])
        )
    if "scale_unit" in resolved:
        resolved["scale_unit"] = _scale_unit(resolved["scale_unit"])
    return resolved


def _scale_unit(ref: Any) -> ScaleUnit | None:
    if ref in (None, ""):
        return None
    if isinstance(ref, ScaleUnit):
        return ref
    pk = parse_id(ref)
    unit = ScaleUnit.objects.filter(pk=pk).first() if pk is not None else None
    if unit is None:
        raise Invalid.field("scale_unit", _("No such scale unit."))
    return unit


def _check_placement(admin: Actor, *, current: ScaleUnit | None, wanted: Any) -> None:
    """Scale units are platform infrastructure: partners neither choose nor learn them."""
    if admin.is_platform_admin:
        return
    if getattr(wanted, "pk", wanted) not in (getattr(current, "pk", None), None, ""):
        raise Forbidden(_("Only platform administrators place UC tenants on scale units."))


def _check_new_tenant_version(version: Any) -> None:
    if version is not None and version.update_prohibited:
        raise Invalid.field("version", _("Updates to this software version are prohibited."))


def version_for_new_tenant(admin: Actor) -> SoftwareVersion | None:
    """The version a new tenant gets when none is chosen: the newest one marked *Use for new
    UC Tenant* that updates are not prohibited to (and that `admin` may see)."""
    return (
        versions_visible_to(admin)
        .filter(use_for_new=True, update_prohibited=False)
        .order_by("-sort_key")
        .first()
    )


def create_tenant(admin: Actor, **fields: Any) -> Tenant:
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"partner", "language", "version"}
    if unknown:
        raise Invalid.field(sorted(unknown)[0], _("Unknown field."))
    if admin.is_partner_admin:
        fields.setdefault("partner", admin.partner_id)
    if fields.get("version") in (None, ""):
        fields["version"] = version_for_new_tenant(admin)
    for required in ("partner", "version"):
        if fields.get(required) in (None, ""):
            raise Invalid.field(required, _("This field is required."))
    _check_placement(admin, current=None, wanted=fields.get("scale_unit"))
    resolved = _resolve_references(admin, fields)
    _check_new_tenant_version(resolved["version"])
    tenant = Tenant(**resolved)
    _full_clean(tenant)
    with transaction.atomic():
        tenant.save()
        record_many(
            admin,
            [
                Change(
                    "create",
                    "tenant",
                    tenant.pk,
                    "name",
                    "",
                    tenant.name,
                    partner_id=tenant.partner_id,
                )
            ],
        )
    return tenant


def create_tenants(
    admin: Actor, tenants: list[Tenant], *, progress: Callable[[int], None] | None = None
) -> int:
    """Many tenants at once (the CSV import), validated by the caller field by field and
    for uniqueness (`tenants.importing`); this keeps create_tenant's rules for the whole
    batch in a few queries: the partner in scope, no prohibited version, placement on scale
    units by platform administrators only. Returns how many were created."""
    partner_ids = {t.partner_id for t in tenants}
    visible = set(
        partners_visible_to(admin).filter(pk__in=partner_ids).values_list("pk", flat=True)
    )
    if partner_ids - visible:
        raise NotFound(_("No such partner."))
    version_ids = {t.version_id for t in tenants}
    usable = set(
        versions_visible_to(admin)
        .filter(pk__in=version_ids, update_prohibited=False)
        .values_list("pk", flat=True)
    )
    if version_ids - usable:
        raise Invalid.field("version", _("Updates to this software version are prohibited."))
    if any(t.scale_unit_id is not None for t in tenants):
        _check_placement(admin, current=None, wanted=True)
    done = 0
    with transaction.atomic():
        for batch in chunks(tenants, INSERT_BATCH):
            Tenant.objects.bulk_create(batch)
            done += len(batch)
            if progress:
                progress(done)
        ids: dict[str, int] = {}
        names = [t.name for t in tenants]
        for chunk in chunks(names):
            ids.update(Tenant.objects.filter(name__in=chunk).values_list("name", "id"))
        record_many(
            admin,
            (
                Change("import", "tenant", ids[t.name], "name", "", t.name, partner_id=t.partner_id)
                for t in tenants
            ),
        )
    return done


def update_tenant(admin: Actor, pk: Any, **changes: Any) -> Tenant:
    tenant = get_tenant_for(admin, pk)
    for name in FIXED_AFTER_CREATION:
        if name in changes:
            current = (
                getattr(tenant, f"{name}_id", None)
                if name in ("partner", "version")
                else getattr(tenant, name)
            )
            wanted = getattr(changes[name], "pk", changes[name])
            if str(wanted) != str(current):
                raise Invalid.field(name, _("This field cannot be changed after creation."))
            changes.pop(name)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise Invalid.field(sorted(unknown)[0], _("Unknown field."))
    if "scale_unit" in changes:
        _check_placement(admin, current=tenant.scale_unit, wanted=changes["scale_unit"])
    resolved = _resolve_references(admin, changes)
    old = {name: getattr(tenant, name) for name in resolved}
    for name, value in resolved.items():
        setattr(tenant, name, value)
    _full_clean(tenant)
    with transaction.atomic():
        tenant.save()
        record_many(
            admin,
            [
                Change(
                    "update",
                    "tenant",
                    tenant.pk,
                    name,
                    old[name],
                    value,
                    partner_id=tenant.partner_id,
                )
                for name, value in resolved.items()
                if old[name] != value
            ],
        )
    return tenant


def create_partner(
    admin: Actor, *, name: str, language: str = "en", is_active: bool = True
) -> Partner:
    if not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may create partners."))
    partner = Partner(name=name, language=language, is_active=is_active)
    _full_clean(partner)
    with transaction.atomic():
        partner.save()
        record_many(
            admin,
            [Change("create", "partner", partner.pk, "name", "", name, partner_id=partner.pk)],
        )
    return partner


def update_partner(admin: Actor, pk: Any, **changes: Any) -> Partner:
    """Rename a partner, change its language or (de)activate it (platform administrators)."""
    partner = get_partner_for(admin, pk)  # 404 before 403: foreign ids stay unconfirmed
    if not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may change partners."))
    unknown = set(changes) - {"name", "language", "is_active"}
    if unknown:
        raise Invalid.field(sorted(unknown)[0], _("Unknown field."))
    old = {name: getattr(partner, name) for name in changes}
    for name, value in changes.items():
        setattr(partner, name, value)
    _full_clean(partner)
    with transaction.atomic():
        partner.save()
        record_many(
            admin,
            [
                Change(
                    "update", "partner", partner.pk, name, old[name], value, partner_id=partner.pk
                )
                for name, value in changes.items()
                if old[name] != value
            ],
        )
    return partner


def create_scale_unit(
    admin: Actor, *, name: str, location: str = "", max_concurrent_tasks: int = 10
) -> ScaleUnit:
    if not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may create scale units."))
    unit = ScaleUnit(name=name, location=location, max_concurrent_tasks=max_concurrent_tasks)
    _full_clean(unit)
    with transaction.atomic():
        unit.save()
        record_many(admin, [Change("create", "scale_unit", unit.pk, "name", "", name)])
    return unit
