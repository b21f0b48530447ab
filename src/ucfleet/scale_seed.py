"""A platform of realistic spread for scale work: `ucfleet seed-scale --tenants 1000000`.

Partners of Zipf-like sizes (a few large resellers, a long tail), scale units of varying
capacity, a version history whose older releases hold fewer tenants, and tenants whose names
do not follow their ids (so that a list sorted by name is not a list in insert order).
Deterministic for a given `--seed`. Rows go in with `core.bulkload` (COPY on PostgreSQL).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from ucfleet.core.bulkload import analyze, load_rows
from ucfleet.core.keyset import keyset_rows
from ucfleet.tenants.models import Partner, ScaleUnit, Tenant
from ucfleet.versions.models import SoftwareVersion

# name, share of tenants, flags
VERSIONS: list[tuple[str, int, dict[str, bool]]] = [
    ("13.7", 1, {"update_prohibited": True}),
    ("13.8", 2, {"recommend_update": True}),
    ("13.9", 4, {"recommend_update": True}),
    ("14.0", 6, {}),
    ("14.1", 9, {}),
    ("14.2", 14, {}),
    ("14.3", 22, {}),
    ("14.4", 28, {}),
    ("14.5", 14, {"use_for_new": True}),
    ("15.0-beta", 0, {"for_testing": True}),
]
WORDS = [
    "acme",
    "alpha",
    "arcon",
    "astra",
    "bern",
    "blue",
    "cobalt",
    "delta",
    "ember",
    "fjord",
    "gamma",
    "helix",
    "indigo",
    "jade",
    "kilo",
    "lumen",
    "mosel",
    "nord",
    "onyx",
    "polar",
    "quartz",
    "rhein",
    "sigma",
    "tango",
    "ultra",
    "vega",
    "weser",
    "xenon",
    "yukon",
    "zeta",
]
REGIONS = ("fra", "ber", "muc", "ham", "vie", "zrh", "ams", "lon")


@dataclass(frozen=True)
class SeedSummary:
    partners: int
    scale_units: int
    versions: int
    tenants: int
    tasks: int
    seconds: float


def default_partners(tenants: int) -> int:
    return max(3, min(2000, tenants // 2000))


def _partner_weights(count: int) -> list[float]:
    """Cumulative Zipf-like weights (exponent 0.9): partner 1 is the largest."""
    total = 0.0
    cumulative = []
    for rank in range(1, count + 1):
        total += 1 / rank**0.9
        cumulative.append(total)
    return cumulative


def seed_scale(
    *,
    tenants: int,
    partners: int | None = None,
    scale_units: int | None = None,
    tasks: bool = False,
    seed: int = 1,
    progress: Callable[[str], None] = lambda text: None,
) -> SeedSummary:
    """Create the platform in one transaction; refuses a database that has tenants."""
    started = timezone.now()
    if Tenant.objects.exists():
        raise ValueError("The database already has UC tenants; seed-scale fills an empty one.")
    rng = random.Random(seed)
    partner_count = partners or default_partners(tenants)
    unit_count = scale_units or max(2, tenants // 5000)
    with transaction.atomic():
        versions = _versions()
        partner_rows = _partners(partner_count, rng)
        units = _scale_units(unit_count, rng)
        progress(
            f"{len(partner_rows)} partners, {len(units)} scale units, {len(versions)} versions"
        )
        count = load_rows(
            Tenant, TENANT_COLUMNS, _tenant_rows(tenants, partner_rows, units, versions, rng, seed)
        )
        progress(f"{count} tenants")
        task_count = _tasks(versions, rng) if tasks else 0
        if task_count:
            progress(f"{task_count} finished tasks")
    loaded: list[type[Model]] = [Partner, ScaleUnit, Tenant, SoftwareVersion]
    if task_count:
        from ucfleet.updates.models import UpdateTask  # as in _tasks

        loaded.append(UpdateTask)
    analyze(*loaded)  # after the commit: VACUUM too on PostgreSQL (core.bulkload)
    seconds = (timezone.now() - started).total_seconds()
    return SeedSummary(len(partner_rows), len(units), len(versions), count, task_count, seconds)


def _versions() -> list[tuple[int, int]]:
    """(version id, share) of every seeded version, existing names reused."""
    result = []
    for name, share, flags in VERSIONS:
        version = SoftwareVersion.objects.filter(name=name).first()
        if version is None:
            version = SoftwareVersion(name=name, **flags)
            version.save()
        result.append((version.pk, share))
    return result


def _partners(count: int, rng: random.Random) -> list[tuple[int, str]]:
    """(id, language) of `count` new partners, a fifth of them German-speaking."""
    now = timezone.now()
    existing = set(Partner.objects.values_list("name", flat=True))
    names = [n for n in (f"Partner {i:05d}" for i in range(1, count * 2)) if n not in existing]
    Partner.objects.bulk_create(
        Partner(name=name, language="de" if rng.random() < 0.2 else "en", created=now)
        for name in names[:count]
    )
    return list(
        Partner.objects.filter(name__in=names[:count])
        .order_by("name")
        .values_list("id", "language")
    )


def _scale_units(count: int, rng: random.Random) -> list[int]:
    ScaleUnit.objects.bulk_create(
        ScaleUnit(
            name=f"su-{REGIONS[i % len(REGIONS)]}-{i:04d}",
            location=REGIONS[i % len(REGIONS)],
            max_concurrent_tasks=rng.choice((5, 10, 10, 20, 50)),
        )
        for i in range(count)
        if not ScaleUnit.objects.filter(name=f"su-{REGIONS[i % len(REGIONS)]}-{i:04d}").exists()
    )
    return list(ScaleUnit.objects.order_by("pk").values_list("pk", flat=True))


TENANT_COLUMNS = (
    "name",
    "domain",
    "partner_id",
    "language",
    "version_id",
    "description",
    "customer_id",
    "notification_email",
    "is_active",
    "auto_update_allowed",
    "is_productive",
    "is_nfr",
    "is_test",
    "test_until",
    "scale_unit_id",
    "instance_id",
    "created",
    "updated",
)


def _tenant_rows(
    count: int,
    partners: list[tuple[int, str]],
    units: list[int],
    versions: list[tuple[int, int]],
    rng: random.Random,
    seed: int,
) -> Iterator[tuple[Any, ...]]:
    partner_weights = _partner_weights(len(partners))
    version_ids = [pk for pk, share in versions if share]
    version_weights = [share for _, share in versions if share]
    today = timezone.localdate()
    now = timezone.now()
    until = Tenant._meta.get_field("test_until")
    test_ends = [
        until.get_db_prep_save(today + timedelta(days=d), connection) for d in range(1, 120)
    ]
    field = Tenant._meta.get_field("created")
    stamps = [field.get_db_prep_save(now - timedelta(days=d), connection) for d in range(1500)]
    chosen_partners = rng.choices(partners, cum_weights=partner_weights, k=count)
    chosen_versions = rng.choices(version_ids, weights=version_weights, k=count)
    for i in range(count):
        partner_id, partner_language = chosen_partners[i]
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i:07d}"
        language = (
            partner_language if rng.random() < 0.85 else ("de", "en")[partner_language == "de"]
        )
        kind = rng.random()
        is_test = kind < 0.10
        stamp = stamps[rng.randrange(len(stamps))]
        yield (
            name,
            f"{name}.uc.example",
            partner_id,
            language,
            chosen_versions[i],
            "",
            f"C{rng.randrange(10**8):08d}",
            f"admin@{name}.example" if rng.random() < 0.85 else "",
            rng.random() < 0.98,
            rng.random() < 0.95,
            not is_test and kind < 0.92,
            0.92 <= kind < 0.97,
            is_test,
            test_ends[rng.randrange(len(test_ends))] if is_test else None,
            units[rng.randrange(len(units))] if units and rng.random() < 0.97 else None,
            f"i-{seed:04x}{i:012x}",
            stamp,
            stamp,
        )


def _tasks(versions: list[tuple[int, int]], rng: random.Random) -> int:
    """One finished task per tenant (executed, failed or cancelled over the last 90 days):
    a task list with history, and no open task in the way of a new request."""
    from ucfleet.updates.models import UpdateTask

    now = timezone.now()
    field = UpdateTask._meta.get_field("earliest_start")
    starts = [field.get_db_prep_save(now - timedelta(hours=h), connection) for h in range(2160)]
    request_ids = [uuid_for(rng) for _ in range(40)]
    target = max(pk for pk, share in versions if share)
    tenants = Tenant.objects.order_by("pk").values_list("pk", "partner_id", "version_id")

    def rows(chunk: list[tuple[int, int, int]]) -> Iterator[tuple[Any, ...]]:
        for tenant_id, partner_id, version_id in chunk:
            roll = rng.random()
            status = "executed" if roll < 0.90 else "failed" if roll < 0.96 else "cancelled"
            start = starts[rng.randrange(len(starts))]
            yield (
                tenant_id,
                partner_id,
                version_id,
                target,
                "update",
                "maintenance_window" if roll < 0.7 else "immediate",
                start,
                status,
                request_ids[tenant_id % len(request_ids)],
                start,
                start if status != "cancelled" else None,
                start if status != "cancelled" else None,
                "precheck_failed" if status == "failed" else "",
            )

    columns = (
        "tenant_id",
        "partner_id",
        "from_version_id",
        "target_version_id",
        "task_type",
        "timing",
        "earliest_start",
        "status",
        "request_id",
        "created",
        "started",
        "finished",
        "failure_reason",
    )
    count = 0
    # In pieces read before each COPY: a connection runs no other query while it copies.
    for chunk in chunked_rows(tenants):
        count += load_rows(UpdateTask, columns, rows(chunk))
    analyze(UpdateTask)
    return count


def chunked_rows(queryset: Any, size: int = 50_000) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in keyset_rows(queryset, columns=("pk", "partner_id", "version_id"), chunk_size=size):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def uuid_for(rng: random.Random) -> Any:
    import uuid

    value = uuid.UUID(int=rng.getrandbits(128), version=4)
    return value.hex if connection.vendor == "sqlite" else value
