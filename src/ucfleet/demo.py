"""Demo data for the first start: partners, administrators, tenants, versions, a window, a
platform maintenance next week and a few planned tasks. Built through the services, so the
demo obeys the same rules as real data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from ucfleet.accounts.actors import SYSTEM
from ucfleet.accounts.choices import Profile
from ucfleet.accounts.models import Administrator
from ucfleet.accounts.services import create_administrator
from ucfleet.core.timeutils import localize, zone
from ucfleet.maintenance.services import SlotInput, create_maintenance, update_window
from ucfleet.tenants.services import create_partner, create_scale_unit, create_tenant
from ucfleet.updates.services import ScheduleRequest, schedule_updates
from ucfleet.versions.services import create_version, update_version

DEMO_PASSWORD = "ucfleet-demo-2026"
ZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Credential:
    username: str
    profile: str
    partner: str


def has_data() -> bool:
    return Administrator.objects.exists()


DEMO_PARTNERS = ("alpha", "beta", "gamma")


def demo_credentials() -> list[Credential]:
    """The demo administrators that still sign in with the demo password (`ucfleet
    demo-credentials` prints them again after the first start)."""
    names = ["platform", "operator"] + [
        f"{slug}-{suffix}" for slug in DEMO_PARTNERS for suffix in ("admin", "ops")
    ]
    found = Administrator.objects.filter(username__in=names).select_related("partner")
    by_name = {a.username: a for a in found if a.check_password(DEMO_PASSWORD)}
    credentials = []
    for name in names:
        if name in by_name:
            admin = by_name[name]
            partner = admin.partner.name if admin.partner is not None else ""
            credentials.append(Credential(name, str(admin.get_profile_display()), partner))
    return credentials


@transaction.atomic
def seed_demo() -> list[Credential]:
    root = create_administrator(
        SYSTEM,
        username="platform",
        password=DEMO_PASSWORD,
        profile=Profile.PLATFORM_ADVANCED,
        email="platform@ucfleet.example",
        first_name="Pat",
        last_name="Platform",
    )
    create_administrator(
        SYSTEM,
        username="operator",
        password=DEMO_PASSWORD,
        profile=Profile.PLATFORM,
        email="operator@ucfleet.example",
        language="de",
    )
    update_window(
        root,
        time_zone=ZONE,
        expected_task_minutes=30,
        slots=[SlotInput(weekdays=[6], start=time(1, 0), duration_minutes=240)],
    )
    units = [
        create_scale_unit(root, name="fra-1", location="Frankfurt am Main", max_concurrent_tasks=5),
        create_scale_unit(root, name="ber-1", location="Berlin", max_concurrent_tasks=3),
    ]
    today = timezone.localdate()
    versions = {
        name: create_version(
            root, name=name, languages=langs, released_on=today - timedelta(days=age), **flags
        )
        for name, langs, age, flags in [
            ("14.6", ["en", "de"], 400, {}),  # prohibited below, once tenants run it
            # Recommend update means "an update away from this version is recommended"
            # (the manual): the old versions carry it, never the one to update to.
            ("14.7", ["en", "de"], 300, {"recommend_update": True}),
            ("14.8", ["en"], 200, {"recommend_update": True}),
            ("14.9", ["en", "de"], 120, {}),
            ("14.10", ["en", "de"], 30, {"use_for_new": True}),
            ("15.0", ["en", "de"], 5, {"for_testing": True}),
        ]
    }
    credentials = [
        Credential("platform", "advanced platform administrator", ""),
        Credential("operator", "platform administrator", ""),
    ]
    spread = ["14.7", "14.9", "14.9", "14.10", "14.6", "14.8"]
    for p_index, (name, language, slug) in enumerate(
        [
            ("Alpha Telecom", "en", "alpha"),
            ("Beta Networks", "de", "beta"),
            ("Gamma Cloud Services", "en", "gamma"),
        ]
    ):
        partner = create_partner(root, name=name, language=language)
        for suffix, profile in [("admin", Profile.PARTNER_ADVANCED), ("ops", Profile.PARTNER)]:
            create_administrator(
                root if profile == Profile.PARTNER else SYSTEM,
                username=f"{slug}-{suffix}",
                password=DEMO_PASSWORD,
                profile=profile,
                partner=partner,
                language=language,
                email=f"{suffix}@{slug}.example",
            )
            credentials.append(Credential(f"{slug}-{suffix}", str(profile.label), name))
        for i in range(20):
            n = p_index * 20 + i
            tenant_language = "de" if (n % 3 == 0 or language == "de") else "en"
            version = spread[n % len(spread)]
            if tenant_language == "de" and version == "14.8":
                version = "14.9"
            create_tenant(
                root,
                name=f"{slug}-customer-{i + 1:02d}",
                domain=f"customer{i + 1:02d}.{slug}.uc.example",
                partner=partner,
                language=tenant_language,
                version=versions[version],
                customer_id=f"{slug.upper()}-{1000 + i}",
                notification_email="" if i % 8 == 5 else f"it@customer{i + 1:02d}.{slug}.example",
                description=f"Demo customer {i + 1} of {name}",
                auto_update_allowed=(i % 7 != 3),
                is_test=(i % 9 == 4),
                test_until=today + timedelta(days=14 + i) if i % 9 == 4 else None,
                is_nfr=(i % 11 == 6),
                is_productive=not (i % 9 == 4 or i % 11 == 6),
                scale_unit=units[n % 2],
            )
    # Marked after the fact, as in real life: tenants still run a version found faulty.
    update_version(root, versions["14.6"].pk, update_prohibited=True)
    maintenance_start = _next_weekday_at(today + timedelta(days=7), weekday=1, at=time(22, 0))
    create_maintenance(
        root,
        start=maintenance_start,
        end=maintenance_start + timedelta(hours=3),
        message_en="Database and storage upgrade. The portal stays reachable for "
        "platform administrators.",
        message_de="Aktualisierung von Datenbank und Speicher. Das Portal bleibt für "
        "Plattform-Administratoren erreichbar.",
    )
    _schedule_demo_tasks(root, versions)
    return credentials


def _next_weekday_at(start: date, *, weekday: int, at: time) -> datetime:
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    return localize(datetime.combine(day, at), zone(ZONE))


def _schedule_demo_tasks(root: Administrator, versions: dict) -> None:
    from ucfleet.tenants.models import Tenant

    alpha = list(
        Tenant.objects.filter(partner__name="Alpha Telecom", version__name="14.9").values_list(
            "pk", flat=True
        )[:5]
    )
    schedule_updates(
        root,
        ScheduleRequest(
            tenant_ids=alpha,
            timing="maintenance_window",
            target_version=versions["14.10"].pk,
            notify_partner=True,
            notify_customer=True,
        ),
    )
    beta = list(
        Tenant.objects.filter(partner__name="Beta Networks", version__name="14.7").values_list(
            "pk", flat=True
        )[:2]
    )
    tomorrow_evening = _next_weekday_at(
        timezone.localdate() + timedelta(days=1),
        weekday=(timezone.localdate().weekday() + 1) % 7,
        at=time(20, 0),
    )
    schedule_updates(
        root,
        ScheduleRequest(
            tenant_ids=beta,
            timing="custom",
            start=tomorrow_evening,
            target_version=versions["14.9"].pk,
            forced=True,
            notify_partner=True,
        ),
    )
