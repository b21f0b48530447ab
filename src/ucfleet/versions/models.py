from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ucfleet.core.models import TimestampedModel
from ucfleet.versions.ordering import sort_key, version_key


def default_languages() -> list[str]:
    return ["en", "de"]


class SoftwareVersion(TimestampedModel):
    name = models.CharField(_("version"), max_length=50, unique=True)
    sort_key = models.CharField(max_length=200, editable=False, db_index=True)
    languages = models.JSONField(_("languages"), default=default_languages)
    released_on = models.DateField(_("release date"), null=True, blank=True)
    # The four flags only platform administrators may change.
    use_for_new = models.BooleanField(_("Use for new UC Tenant"), default=False)
    recommend_update = models.BooleanField(_("Recommend update"), default=False)
    update_prohibited = models.BooleanField(_("Update prohibited"), default=False)
    for_testing = models.BooleanField(_("For testing purposes"), default=False)

    class Meta:
        verbose_name = _("software version")
        verbose_name_plural = _("software versions")
        ordering = ["-sort_key"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.sort_key = sort_key(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def is_older_than(self, other: SoftwareVersion) -> bool:
        return version_key(self.name) < version_key(other.name)

    def offers_language(self, language: str) -> bool:
        return language in (self.languages or [])
