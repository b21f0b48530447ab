from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.TextChoices):
    PLATFORM = "platform", _("Platform administrator")
    PLATFORM_ADVANCED = "platform_advanced", _("Advanced platform administrator")
    PARTNER = "partner", _("Partner administrator")
    PARTNER_ADVANCED = "partner_advanced", _("Advanced partner administrator")


# Tuples, not sets: their order reaches the database constraint and must be stable.
PLATFORM_PROFILES = (Profile.PLATFORM, Profile.PLATFORM_ADVANCED)
PARTNER_PROFILES = (Profile.PARTNER, Profile.PARTNER_ADVANCED)


class Language(models.TextChoices):
    EN = "en", _("English")
    DE = "de", _("German")
