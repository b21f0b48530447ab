"""What a request to schedule updates would do, per tenant (R2, R4–R7). Writes nothing.

`plan_updates` is shared by the preview and by `services.schedule_updates`, so what the
administrator confirms is exactly what gets created.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ucfleet.accounts.actors import Actor
from ucfleet.core.chunks import chunks
from ucfleet.core.errors import Forbidden, Invalid, NotFound
from ucfleet.core.timebounds import require_within
from ucfleet.core.timeutils import format_server_time
from ucfleet.core.timeutils import now as utcnow
from ucfleet.maintenance import queries as maintenance
from ucfleet.tenants.filtering import TenantFilter, filter_tenants
from ucfleet.tenants.models import Tenant
from ucfleet.tenants.queries import get_partner_for, tenants_visible_to
from ucfleet.updates.capacity import place_in_windows
from ucfleet.updates.choices import OPEN_STATUSES, SkipReason, TaskType, Timing, WarningCode
from ucfleet.updates.models import UpdateTask
from ucfleet.updates.plan_rows import PlannedTasks
from ucfleet.versions.models import SoftwareVersion
from ucfleet.versions.queries import get_version_for
from ucfleet.versions.rules import VersionFacts, is_downgrade, target_skip_reason

BATCH = 5000


@dataclass
class ScheduleRequest:
    """One administrator's request; exactly one of tenant_ids, partner_id, all_tenants,
    filter (R19: the tenants `tenants.filtering.filter_tenants` selects)."""

    timing: str
    target_version: Any
    tenant_ids: list[int] | None = None
    partner_id: int | None = None
    all_tenants: bool = False
    filter: TenantFilter | None = None
    # tenant_ids include whole partners (updates.selection): no single-tenant rule applies.
    includes_partners: bool = False
    start: datetime | None = None
    task_type: str = TaskType.UPDATE
    forced: bool = False
    redeploy: bool = False
    notify_partner: bool = False
    notify_customer: bool = False
    confirm_downgrade: bool = False
    confirm_auto_update_disabled: bool = False
    # R25: wait while the tenant has active calls (False: update regardless).
    wait_for_idle: bool = True
    # The rollout (R18, R20, R21): its name (empty: target version and date), its waves
    # as [{"count": n} | {"percent": p}] (None: one wave; the last takes the rest), the
    # soak between waves and the error budget (at most one of the two).
    name: str = ""
    waves: list[dict[str, Any]] | None = None
    soak_minutes: int = 0
    max_failures: int | None = None
    max_failure_percent: float | None = None


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: int
    name: str
    partner_id: int
    partner_name: str
    language: str
    version_id: int
    auto_update_allowed: bool
    notification_email: str
    scale_unit_id: int | None


@dataclass(frozen=True, slots=True)
class Skip:
    tenant_id: int
    tenant_name: str
    reason: str

    @property
    def text(self) -> str:
        return str(SkipReason(self.reason).label)


@dataclass(frozen=True, slots=True)
class Notice:
    tenant_id: int | None
    tenant_name: str
    code: str

    @property
    def text(self) -> str:
        return str(WarningCode(self.code).label)


@dataclass
class SchedulePlan:
    """`earliest_start`/`latest_start` are the first period used; each planned task carries
    its own (maintenance-window tasks spread over occurrences with room, R23)."""

    target_version: SoftwareVersion
    timing: str
    earliest_start: datetime
    latest_start: datetime | None
    planned: PlannedTasks  # columns, not objects (plan_rows): a plan may hold 1,000,000
    skipped: list[Skip]
    warnings: list[Notice]
    # The rollout's waves (rollouts.building.WavePlan), set when the plan is split.
    waves: list[Any] = field(default_factory=list)

    def periods(self) -> list[tuple[datetime, datetime | None, int]]:
        """The distinct (earliest start, latest start) of the planned tasks, in order, each
        with how many tasks it takes: the preview's summary of dates. Held waves (R20) are
        left out: they get their dates when released."""
        counts: dict[tuple[datetime, datetime | None], int] = defaultdict(int)
        periods = zip(
            self.planned.column("earliest_start"),
            self.planned.column("latest_start"),
            self.planned.column("wave"),
            strict=True,
        )
        for earliest, latest, wave in periods:
            if wave == 1:
                counts[(earliest, latest)] += 1
        return [(e, lt, n) for (e, lt), n in sorted(counts.items(), key=lambda kv: kv[0][0])]


def _validate_options(admin: Actor, request: ScheduleRequest) -> None:
    if request.timing not in Timing.values:
        raise Invalid.field(
            "timing", _("Choose Immediately, Maintenance window (server time) or Custom time.")
        )
    if request.task_type not in TaskType.values:
        raise Invalid.field("task_type", _("The task type must be update or recreate."))
    if request.forced and not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may set Forced update."))
    chosen = sum(
        [
            request.tenant_ids is not None,
            request.partner_id is not None,
            bool(request.all_tenants),
            request.filter is not None,
        ]
    )
    if chosen != 1:
        raise Invalid.field(
            "tenants", _("Choose UC tenants, one partner, all UC tenants, or a filter.")
        )
    if request.tenant_ids is not None and not request.tenant_ids:
        raise Invalid.field("tenants", _("Select at least one UC tenant."))
    if request.all_tenants and not admin.is_platform_admin:
        raise Forbidden(_("Only platform administrators may update all UC tenants."))


def describe_maintenance(m: Any) -> str:
    tz = maintenance.server_zone()
    return _("the platform maintenance from %(start)s to %(end)s") % {
        "start": format_server_time(m.start, tz),
        "end": format_server_time(m.end, tz),
    }


def refuse_if_in_maintenance(
    earliest: datetime, latest: datetime | None, *, field_name: str = "start"
) -> None:
    """R8: no task period may overlap a platform maintenance; the error names it."""
    clash = maintenance.maintenance_overlapping(earliest, latest or earliest)
    if clash is not None:
        raise Invalid.field(
            field_name,
            _("The time overlaps %(maintenance)s; no tasks can be scheduled for this period.")
            % {"maintenance": describe_maintenance(clash)},
            code="platform_maintenance",
        )


def custom_period(start: datetime | None, *, now: datetime) -> tuple[datetime, datetime]:
    if start is None:
        raise Invalid.field("start", _("Choose the date and time for Custom time."))
    require_within(start, "start")  # also keeps start + grace inside datetime's range
    if start <= now:
        raise Invalid.field("start", _("The time must lie in the future."))
    grace = timedelta(minutes=settings.UCFLEET["CUSTOM_START_GRACE_MINUTES"])
    return start, start + grace


def task_period(
    timing: str, start: datetime | None, *, now: datetime
) -> tuple[datetime, datetime | None]:
    """Earliest and latest start for a timing type (R2), refused inside a maintenance (R8)."""
    if timing == Timing.IMMEDIATE:
        earliest, latest = now, None
    elif timing == Timing.MAINTENANCE_WINDOW:
        occurrence = maintenance.next_task_window(now)
        if occurrence is None:
            raise Invalid.field(
                "timing",
                _(
                    "The maintenance window has no occurrence that a "
                    "platform maintenance does not block."
                ),
                code="no_window",
            )
        window = maintenance.get_window()
        earliest = occurrence.start
        latest = occurrence.latest_start(timedelta(minutes=window.expected_task_minutes))
    else:
        earliest, latest = custom_period(start, now=now)
    # The error belongs to the field that chose the period: the start only for Custom time.
    refuse_if_in_maintenance(
        earliest, latest, field_name="start" if timing == Timing.CUSTOM else "timing"
    )
    return earliest, latest


def _selected_tenants(admin: Actor, request: ScheduleRequest) -> list[QuerySet[Tenant]]:
    """The selection as querysets in ascending id order: one for a partner or the platform,
    one per chunk of ids for a selection (core.chunks: below SQLite's variable limit)."""
    if request.tenant_ids is not None:
        ids = sorted(set(request.tenant_ids))
        pieces = [tenants_visible_to(admin).filter(pk__in=chunk) for chunk in chunks(ids)]
        if sum(piece.count() for piece in pieces) != len(ids):
            # R1: a foreign or unknown id fails the whole request, without saying which.
            raise NotFound(_("No such UC tenant."))
        return pieces
    if request.partner_id is not None:
        partner = get_partner_for(admin, request.partner_id)
        return [tenants_visible_to(admin).filter(partner=partner)]
    if request.filter is not None:
        return [filtered_selection(admin, request.filter)]
    return [tenants_visible_to(admin)]


def filtered_selection(admin: Actor, tenant_filter: TenantFilter) -> QuerySet[Tenant]:
    """R19: the tenants of a filter (scoped, R1: naming what the admin cannot see is not
    found); a filter that matches no tenant is a 400 naming the filter."""
    tenants = filter_tenants(admin, tenant_filter)
    if not tenants.exists():
        raise Invalid.field(
            "filter", _("No UC tenant matches the filter."), code=SkipReason.FILTER_MATCHED_NONE
        )
    return tenants


def _tenant_rows(tenants: QuerySet[Tenant]) -> Iterator[TenantRow]:
    rows = tenants.order_by("pk").values_list(
        "id",
        "name",
        "partner_id",
        "partner__name",
        "language",
        "version_id",
        "auto_update_allowed",
        "notification_email",
        "scale_unit_id",
    )
    for row in rows.iterator(chunk_size=BATCH):
        yield TenantRow(*row)


def _version_facts() -> dict[int, VersionFacts]:
    return {
        v.id: VersionFacts(
            v.id, v.name, tuple(v.languages or ()), v.update_prohibited, v.for_testing
        )
        for v in SoftwareVersion.objects.all()
    }


def plan_updates(
    admin: Actor, request: ScheduleRequest, *, now: datetime | None = None
) -> SchedulePlan:
    _validate_options(admin, request)
    moment = now or utcnow()
    # Scoped like every lookup: for a partner a test version is "not found", as a missing
    # version is (naming one must not confirm that it exists).
    target = get_version_for(admin, request.target_version)
    earliest, latest = task_period(request.timing, request.start, now=moment)
    selection = _selected_tenants(admin, request)
    is_single = (
        request.tenant_ids is not None
        and len(set(request.tenant_ids)) == 1
        and not request.includes_partners
    )
    open_tenants = {
        tenant_id
        for tenants in selection
        for tenant_id in UpdateTask.objects.filter(
            status__in=OPEN_STATUSES, tenant__in=tenants
        ).values_list("tenant_id", flat=True)
    }
    facts = _version_facts()
    target_facts = facts[target.id]
    allows_same = request.redeploy or request.task_type == TaskType.RECREATE

    plan = SchedulePlan(target, request.timing, earliest, latest, PlannedTasks(), [], [])
    for row in (row for tenants in selection for row in _tenant_rows(tenants)):
        reason = _skip_reason(
            row,
            admin=admin,
            request=request,
            is_single=is_single,
            has_open_task=row.id in open_tenants,
            target=target_facts,
            current=facts[row.version_id],
            allows_same=allows_same,
        )
        if reason:
            plan.skipped.append(Skip(row.id, row.name, reason))
            continue
        warnings = []
        if is_downgrade(target=target_facts, current=facts[row.version_id]):
            warnings.append(WarningCode.DOWNGRADE)
        if not row.auto_update_allowed:
            warnings.append(WarningCode.AUTO_UPDATE_DISABLED)
        if request.notify_customer and not row.notification_email:
            warnings.append(WarningCode.NO_CUSTOMER_EMAIL)
        plan.warnings.extend(Notice(row.id, row.name, code) for code in warnings)
        plan.planned.append(
            row.id,
            row.name,
            row.partner_id,
            row.partner_name,
            row.version_id,
            earliest,
            latest,
            scale_unit_id=row.scale_unit_id,
            warnings=warnings,
        )
    return plan


def place_first_wave(plan: SchedulePlan, tasks: PlannedTasks, *, now: datetime) -> None:
    """R23 for a maintenance-window plan: `tasks` (the plan's first wave, a leading range
    of `plan.planned`) each in the first occurrence with room for its scale unit and
    globally; the plan's own period becomes the first one used. The tasks of held waves
    keep the plan's first start, with no latest start, until their wave is released and
    placed (a held task counts against an occurrence's room only with a latest start: a
    paused one)."""
    if plan.timing != Timing.MAINTENANCE_WINDOW:
        return
    rows = zip(tasks.column("tenant_id"), tasks.column("scale_unit_id"), strict=True)
    periods = place_in_windows(rows, now=now)
    tasks.set_periods(periods)
    if periods:
        plan.earliest_start, plan.latest_start = min(periods)
    held = plan.planned[len(tasks) :]
    held.set_periods([(plan.earliest_start, None)] * len(held))


def _skip_reason(
    row: TenantRow,
    *,
    admin: Actor,
    request: ScheduleRequest,
    is_single: bool,
    has_open_task: bool,
    target: VersionFacts,
    current: VersionFacts,
    allows_same: bool,
) -> str | None:
    if has_open_task:
        return SkipReason.OPEN_TASK_EXISTS
    # R6: left out of bulk selections; one at a time only after a confirmation.
    if not row.auto_update_allowed and not (is_single and request.confirm_auto_update_disabled):
        return SkipReason.AUTO_UPDATE_DISABLED
    return target_skip_reason(
        target=target,
        current=current,
        language=row.language,
        is_platform_admin=admin.is_platform_admin,
        allows_same_version=allows_same,
        confirm_downgrade=request.confirm_downgrade,
    )
