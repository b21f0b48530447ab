"""The only writers of administrators.

Who may manage whom (§1): an advanced platform administrator manages everyone; a platform
administrator manages partner administrators; an advanced partner administrator manages its
own partner's administrators; a plain partner administrator manages nobody. The operator at
the command line (`ucfleet createadmin`) acts as `accounts.actors.OPERATOR`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.accounts.choices import PARTNER_PROFILES, PLATFORM_PROFILES, Profile
from ucfleet.accounts.models import Administrator
from ucfleet.accounts.queries import get_administrator_for
from ucfleet.accounts.tokens import revoke_tokens
from ucfleet.audit.services import Change, record_many
from ucfleet.core.errors import Forbidden, Invalid
from ucfleet.core.ids import parse_id
from ucfleet.core.text import full_clean
from ucfleet.tenants.queries import get_partner_for


def may_manage(actor: Actor, profile: str, partner_id: int | None) -> bool:
    if actor.profile == Profile.PLATFORM_ADVANCED:
        return True
    if actor.profile == Profile.PLATFORM:
        return profile in PARTNER_PROFILES
    if actor.profile == Profile.PARTNER_ADVANCED:
        return profile in PARTNER_PROFILES and partner_id == actor.partner_id
    return False


def _clean(admin: Administrator, password: str | None) -> None:
    try:
        if password is not None:
            validate_password(password, admin)
    except ValidationError as exc:
        raise Invalid.field("password", " ".join(exc.messages)) from None
    try:
        full_clean(admin, exclude=["password"])
    except ValidationError as exc:
        raise Invalid(_("Please correct the marked fields."), errors=exc.message_dict) from None


def create_administrator(
    actor: Actor,
    *,
    username: str,
    password: str,
    profile: str,
    email: str = "",
    partner: Any = None,
    language: str = "en",
    first_name: str = "",
    last_name: str = "",
) -> Administrator:
    if actor is not None and not any(may_manage(actor, p, actor.partner_id) for p in Profile):
        # Before any lookup: a profile that manages nobody learns nothing about ids.
        raise Forbidden(_("You may not manage administrators."))
    if profile not in Profile.values:
        raise Invalid.field("profile", _("Unknown profile."))
    if actor is not None and not may_manage(actor, profile, actor.partner_id):
        raise Forbidden(_("You may not manage administrators of this profile."))
    if profile in PLATFORM_PROFILES and partner not in (None, ""):
        raise Invalid.field("partner", _("Platform administrators belong to no partner."))
    if profile in PARTNER_PROFILES and partner in (None, ""):
        raise Invalid.field("partner", _("Partner administrators need a partner."))
    partner_obj = None
    if profile in PARTNER_PROFILES:
        partner_obj = (
            get_partner_for(actor, getattr(partner, "pk", partner))
            if isinstance(actor, Administrator)
            else _any_partner(partner)  # the operator names a partner by name or id
        )
    if not may_manage(actor, profile, getattr(partner_obj, "pk", None)):
        raise Forbidden(_("You may not manage administrators of this profile."))
    admin = Administrator(
        username=username,
        email=email,
        profile=profile,
        partner=partner_obj,
        language=language,
        first_name=first_name,
        last_name=last_name,
    )
    _clean(admin, password)
    admin.set_password(password)
    with transaction.atomic():
        admin.save()
        record_many(
            actor,
            [
                Change(
                    "create",
                    "administrator",
                    admin.pk,
                    "profile",
                    "",
                    profile,
                    partner_id=admin.partner_id,
                )
            ],
        )
    return admin


def _any_partner(partner: Any) -> Any:
    from ucfleet.tenants.models import Partner

    key = getattr(partner, "pk", partner)
    pk = parse_id(key)
    found = Partner.objects.filter(pk=pk).first() if pk is not None else None
    found = found or Partner.objects.filter(name=str(key)).first()
    if found is None:
        raise Invalid.field("partner", _("No such partner."))
    return found


def update_administrator(
    actor: Actor, pk: Any, *, current_password: str | None = None, **changes: Any
) -> Administrator:
    """Change e-mail, names, language, active flag or password; profile and partner are
    fixed (create a new administrator instead).

    Changing one's own password needs the current one. A new password or a deactivation
    revokes the administrator's API tokens (their other portal sessions end by Django's
    session hash)."""
    admin = get_administrator_for(actor, pk)
    is_self = actor.pk == admin.pk
    if not is_self and not may_manage(actor, admin.profile, admin.partner_id):
        raise Forbidden(_("You may not manage administrators of this profile."))
    allowed = {"email", "first_name", "last_name", "language", "is_active", "password"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid.field(sorted(unknown)[0], _("This field cannot be changed."))
    if is_self and changes.get("is_active") is False:
        raise Invalid.field("is_active", _("You cannot deactivate yourself."))
    password = changes.pop("password", None)
    if password is not None and not isinstance(password, str):
        raise Invalid.field("password", _("Enter a password."))
    if password and is_self and not admin.check_password(current_password or ""):
        raise Invalid.field("current_password", _("Your current password is not correct."))
    deactivated = admin.is_active and changes.get("is_active") is False
    old = {name: getattr(admin, name) for name in changes}
    for name, value in changes.items():
        setattr(admin, name, value)
    _clean(admin, password)
    if password:
        admin.set_password(password)
    with transaction.atomic():
        admin.save()
        if password or deactivated:
            revoke_tokens(admin)
        record_many(
            actor,
            [
                Change(
                    "update",
                    "administrator",
                    admin.pk,
                    name,
                    old[name],
                    value,
                    partner_id=admin.partner_id,
                )
                for name, value in changes.items()
                if old[name] != value
            ]
            + (
                [
                    Change(
                        "update",
                        "administrator",
                        admin.pk,
                        "password",
                        "",
                        "(changed)",
                        partner_id=admin.partner_id,
                    )
                ]
                if password
                else []
            ),
        )
    return admin


def deactivate_administrator(actor: Any, pk: Any) -> Administrator:
    """What deleting an administrator means: the account stays (the change log names it),
    it can no longer log in, and its API tokens are revoked."""
    return update_administrator(actor, pk, is_active=False)
