from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import PARTNER_PROFILES, PLATFORM_PROFILES, Language, Profile


class Administrator(AbstractUser):
    """A person who logs in: a platform or a partner administrator (PRODUCT.md §1).

    Partner administrators belong to exactly one partner; platform administrators to none.
    The database holds that rule, so no code path can create a partner administrator who
    sees the whole platform.
    """

    profile = models.CharField(_("profile"), max_length=32, choices=Profile.choices)
    partner = models.ForeignKey(
        "tenants.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="administrators",
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.EN
    )

    class Meta:
        verbose_name = _("administrator")
        verbose_name_plural = _("administrators")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                name="partner_admin_has_partner",
                condition=(
                    Q(profile__in=list(PARTNER_PROFILES), partner__isnull=False)
                    | Q(profile__in=list(PLATFORM_PROFILES), partner__isnull=True)
                ),
            ),
        ]

    @property
    def is_platform_admin(self) -> bool:
        return self.profile in PLATFORM_PROFILES

    @property
    def is_partner_admin(self) -> bool:
        return self.profile in PARTNER_PROFILES

    @property
    def is_advanced(self) -> bool:
        return self.profile in {Profile.PLATFORM_ADVANCED, Profile.PARTNER_ADVANCED}


class ApiToken(models.Model):
    """An API key, stored only as a prefix (to find the row) and a hash of the whole key.

    The key itself is shown once, when it is issued (`ucfleet.accounts.tokens`); whoever
    reads the database cannot use what it holds. An administrator may have several tokens
    (one per script or login); they expire, and are revoked together when the password
    changes or the account is deactivated.
    """

    user = models.ForeignKey(
        Administrator,
        verbose_name=_("administrator"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    prefix = models.CharField(_("key prefix"), max_length=16, db_index=True)
    secret_hash = models.CharField(_("key hash"), max_length=64)
    created = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
