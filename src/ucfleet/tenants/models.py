from __future__ import annotations

import secrets

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ucfleet.accounts.choices import Language
from ucfleet.core.models import TimestampedModel


class Partner(TimestampedModel):
    """A reseller; its administrators receive the partner notices."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.EN
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScaleUnit(TimestampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    max_concurrent_tasks = models.PositiveIntegerField(_("max concurrent tasks"), default=10)

    class Meta:
        verbose_name = _("scale unit")
        verbose_name_plural = _("scale units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a domain name such as customer.uc.example (lower case)."),
    code="invalid_domain",
)


def new_instance_id() -> str:
    """An anonymised, stable identifier shown in task details instead of the name."""
    return "i-" + secrets.token_hex(8)


class Tenant(TimestampedModel):
    """One hosted UC server instance of one customer company."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    domain = models.CharField(
        _("domain"), max_length=253, unique=True, validators=[domain_validator]
    )
    # Partner and language are fixed after creation (services refuse to change them).
    # Indexed by tenant_partner_name (partner first) and tenant_version: a tenant's version
    # changes with every update, and each index is written then.
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="tenants",
        db_index=False,
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.EN
    )
    version = models.ForeignKey(
        "versions.SoftwareVersion",
        verbose_name=_("software version"),
        on_delete=models.PROTECT,
        related_name="tenants",
        db_index=False,
    )
    description = models.TextField(_("description"), blank=True)
    customer_id = models.CharField(_("customer ID"), max_length=100, blank=True)
    notification_email = models.EmailField(_("e-mail address for notifications"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    auto_update_allowed = models.BooleanField(_("automatic update allowed"), default=True)
    is_productive = models.BooleanField(_("productive"), default=True)
    is_nfr = models.BooleanField(_("not for resale"), default=False)
    is_test = models.BooleanField(_("test"), default=False)
    test_until = models.DateField(_("test end date"), null=True, blank=True)
    scale_unit = models.ForeignKey(
        ScaleUnit,
        verbose_name=_("scale unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tenants",
    )
    instance_id = models.CharField(
        _("instance ID"), max_length=40, unique=True, default=new_instance_id, editable=False
    )

    class Meta:
        verbose_name = _("UC tenant")
        verbose_name_plural = _("UC tenants")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["partner", "name"], name="tenant_partner_name"),
            # The tenant count of each version, of the platform or of one partner (versions
            # queries): an index-only count per version.
            models.Index(fields=["version", "partner"], name="tenant_version_partner"),
            # A partner administrator's scale units: one probe per unit (queries).
            models.Index(fields=["scale_unit", "partner"], name="tenant_unit_partner"),
        ]

    def __str__(self) -> str:
        return self.name
