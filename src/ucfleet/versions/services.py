"""The only writers of software versions; the flags are for platform administrators (§2)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.audit.services import Change, record_many
from ucfleet.core.errors import Forbidden, Invalid
from ucfleet.core.text import full_clean
from ucfleet.versions.models import SoftwareVersion
from ucfleet.versions.ordering import is_valid_version_name
from ucfleet.versions.queries import get_version_for

FLAGS = ("use_for_new", "recommend_update", "update_prohibited", "for_testing")
LANGUAGES = {"en", "de"}


def _require_platform_admin(admin: Actor) -> None:
    if not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may change software versions."))


def _validate_languages(languages: Any) -> list[str]:
    if not isinstance(languages, list) or not languages or set(languages) - LANGUAGES:
        raise Invalid.field("languages", _("Choose one or more of: en, de."))
    return sorted(set(languages))


def create_version(
    admin: Actor, *, name: str, languages: list[str], released_on: Any = None, **flags: bool
) -> SoftwareVersion:
    _require_platform_admin(admin)
    if not is_valid_version_name(name):
        raise Invalid.field("name", _("A version looks like 14.10 or 14.10.2."))
    version = SoftwareVersion(
        name=name,
        languages=_validate_languages(languages),
        released_on=released_on,
        **{k: bool(v) for k, v in flags.items() if k in FLAGS},
    )
    try:
        full_clean(version)
    except ValidationError as exc:
        raise Invalid(_("Please correct the marked fields."), errors=exc.message_dict) from None
    with transaction.atomic():
        version.save()
        record_many(admin, [Change("create", "software_version", version.pk, "name", "", name)])
    return version


def update_version(admin: Actor, pk: Any, **changes: Any) -> SoftwareVersion:
    """Change flags (and languages or release date); a partner administrator gets 403."""
    version = get_version_for(admin, pk)  # 404 before 403: foreign ids stay unconfirmed
    _require_platform_admin(admin)
    allowed = set(FLAGS) | {"languages", "released_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid.field(sorted(unknown)[0], _("This field cannot be changed."))
    if "languages" in changes:
        changes["languages"] = _validate_languages(changes["languages"])
    old = {name: getattr(version, name) for name in changes}
    for name, value in changes.items():
        setattr(version, name, bool(value) if name in FLAGS else value)
    with transaction.atomic():
        version.save()
        record_many(
            admin,
            [
                Change(
                    "update",
                    "software_version",
                    version.pk,
                    name,
                    old[name],
                    getattr(version, name),
                )
                for name in changes
                if old[name] != getattr(version, name)
            ],
        )
    return version
