"""factory-boy factories for the domain; tests build data through these or through services."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from ucfleet.accounts.choices import Profile
from ucfleet.accounts.models import Administrator
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.updates.choices import Status, TaskType, Timing
from ucfleet.updates.models import UpdateTask
from ucfleet.versions.models import SoftwareVersion

PASSWORD = "correct-horse-battery"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Partner {n}")


class ScaleUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScaleUnit
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"su-{n}")
    location = "Frankfurt"
    max_concurrent_tasks = 5


class VersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SoftwareVersion
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"14.{n}")
    languages = ["en", "de"]


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"tenant-{n:05d}")
    domain = factory.LazyAttribute(lambda t: f"{t.name}.uc.example")
    partner = factory.SubFactory(PartnerFactory)
    version = factory.SubFactory(VersionFactory)
    notification_email = factory.LazyAttribute(lambda t: f"contact@{t.domain}")
    language = "en"


class AdministratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Administrator
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"admin{n}")
    email = factory.LazyAttribute(lambda a: f"{a.username}@ucfleet.example")
    profile = Profile.PLATFORM
    partner = None

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class UpdateTaskFactory(factory.django.DjangoModelFactory):
    """A planned task inserted directly, for tests of reads and of the worker; tests of the
    scheduling rules go through updates.services instead."""

    class Meta:
        model = UpdateTask

    tenant = factory.SubFactory(TenantFactory)
    partner = factory.LazyAttribute(lambda t: t.tenant.partner)
    from_version = factory.LazyAttribute(lambda t: t.tenant.version)
    target_version = factory.SubFactory(VersionFactory)
    task_type = TaskType.UPDATE
    timing = Timing.IMMEDIATE
    earliest_start = factory.LazyFunction(timezone.now)
    latest_start = None
    status = Status.PLANNED
    created = factory.LazyFunction(timezone.now)


def in_hours(hours: float) -> timezone.datetime:
    return timezone.now() + timedelta(hours=hours)
