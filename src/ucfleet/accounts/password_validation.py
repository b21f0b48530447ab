"""Password length by profile: platform administrators see the whole platform, so their
passwords are longer (AUTH_PASSWORD_VALIDATORS; Django's validators do the rest)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ucfleet.accounts.choices import PLATFORM_PROFILES


class ProfileMinimumLengthValidator:
    def __init__(self, platform_length: int = 12, partner_length: int = 10) -> None:
        self.platform_length = platform_length
        self.partner_length = partner_length

    def _minimum(self, user: Any) -> int:
        profile = getattr(user, "profile", None)
        # Without a user (or profile) the stricter rule applies.
        if profile is None or profile in PLATFORM_PROFILES:
            return self.platform_length
        return self.partner_length

    def validate(self, password: str, user: Any = None) -> None:
        minimum = self._minimum(user)
        if len(password) < minimum:
            raise ValidationError(
                # Django's own wording, so Django's catalogues translate it.
                ngettext(
                    "This password is too short. It must contain at least %d character.",
                    "This password is too short. It must contain at least %d characters.",
                    minimum,
                )
                % minimum,
                code="password_too_short",
                params={"min_length": minimum},
            )

    def get_help_text(self) -> str:
        return _(
            "Your password must contain at least %(platform)d characters (platform "
            "administrators) or %(partner)d characters (partner administrators)."
        ) % {"platform": self.platform_length, "partner": self.partner_length}
