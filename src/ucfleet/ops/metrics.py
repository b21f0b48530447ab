"""Prometheus metrics computed from the database at scrape time (R29).

Every value is read from the tables that every portal and worker share, so any portal
process answers the same numbers and nothing is lost when a process restarts;
docs/decisions/0006-metrics-from-the-database.md says why. Each metric family costs one
aggregate query, whatever the number of rows (`tests/ops/test_metrics.py` counts them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, F, FloatField, Func, Min, Q, QuerySet, Sum
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ucfleet.accounts.actors import SYSTEM
from ucfleet.core.timeutils import now as utcnow
from ucfleet.notifications.choices import Status as MailStatus
from ucfleet.notifications.models import Notification
from ucfleet.rollouts.queries import status_totals as rollout_status_totals
from ucfleet.updates.choices import Status
from ucfleet.updates.execution import due_tasks
from ucfleet.updates.models import UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus

# Upper bounds (seconds) of the duration buckets; +Inf is added.
TASK_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
STEP_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
FINISHED_STATUSES = (Status.EXECUTED, Status.FAILED)


def _age(at: datetime | None, now: datetime) -> float:
    return max((now - at).total_seconds(), 0.0) if at is not None else 0.0


class SecondsBetween(Func):
    """`end − start` in seconds, computed natively by the database (SQLite's julianday,
    PostgreSQL's epoch): Django's generic duration on SQLite calls back into Python for
    every row and bucket."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra,
        )


def _duration_histogram(
    rows: QuerySet[Any],
    *,
    name: str,
    documentation: str,
    labels: Sequence[str],
    buckets: Sequence[float],
) -> HistogramMetricFamily:
    """One histogram family from `rows` (already filtered to finished rows with `started`
    and `finished`): per label combination, the count of durations at or below each bound,
    counted by the database in one grouped query."""
    duration = SecondsBetween(F("finished"), F("started"))
    bounds = {f"le_{i}": Q(duration__lte=float(b)) for i, b in enumerate(buckets)}
    grouped = (
        rows.annotate(duration=duration)
        .values(*labels)
        .annotate(
            n=Count("pk"),
            total=Sum("duration"),
            **{key: Count("pk", filter=cond) for key, cond in bounds.items()},
        )
        .order_by(*labels)
    )
    family = HistogramMetricFamily(name, documentation, labels=list(labels))
    for row in grouped:
        cumulative = [(_bound(b), float(row[f"le_{i}"])) for i, b in enumerate(buckets)]
        cumulative.append(("+Inf", float(row["n"])))
        family.add_metric(
            [str(row[label]) for label in labels], cumulative, sum_value=float(row["total"] or 0)
        )
    return family


def _bound(value: float) -> str:
    return str(float(value))


def tasks_by_status() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "ucfleet_tasks", "Update tasks per status (archived ones included).", labels=["status"]
    )
    counts = dict(UpdateTask.objects.values_list("status").annotate(n=Count("pk")).order_by())
    for status in Status.values:
        family.add_metric([status], counts.get(status, 0))
    return family


def rollouts_by_status() -> GaugeMetricFamily:
    """R29: rollouts per status (R18), one grouped query."""
    family = GaugeMetricFamily("ucfleet_rollouts", "Rollouts per status.", labels=["status"])
    for status, count in rollout_status_totals(SYSTEM).items():
        family.add_metric([status], count)
    return family


def due_backlog(now: datetime) -> Iterator[Metric]:
    """Tasks whose start period has begun and that no worker has claimed yet (R11)."""
    due = due_tasks(now).aggregate(n=Count("pk"), oldest=Min("earliest_start"))
    yield GaugeMetricFamily(
        "ucfleet_tasks_due", "Planned tasks whose start time has come.", value=due["n"]
    )
    yield GaugeMetricFamily(
        "ucfleet_tasks_due_oldest_age_seconds",
        "How long the longest-waiting due task has been due (0 when none is).",
        value=_age(due["oldest"], now),
    )


def task_durations() -> HistogramMetricFamily:
    finished = UpdateTask.objects.filter(
        status__in=FINISHED_STATUSES, started__isnull=False, finished__isnull=False
    )
    return _duration_histogram(
        finished,
        name="ucfleet_task_duration_seconds",
        documentation="From start to end of every finished task, by final status.",
        labels=["status"],
        buckets=TASK_BUCKETS,
    )


def step_durations() -> Iterator[HistogramMetricFamily]:
    """Durations of the execution steps, once the step records exist (`updates.TaskStep`
    with step, started, finished, outcome); nothing before."""
    try:
        model = apps.get_model("updates", "TaskStep")
    except LookupError:
        return
    names = {f.name for f in model._meta.get_fields()}
    if not {"step", "started", "finished", "outcome"} <= names:
        return
    finished = model._default_manager.filter(started__isnull=False, finished__isnull=False)
    yield _duration_histogram(
        finished,
        name="ucfleet_task_step_duration_seconds",
        documentation="Duration of every finished execution step, by step and outcome.",
        labels=["step", "outcome"],
        buckets=STEP_BUCKETS,
    )


def workers(now: datetime) -> Iterator[Metric]:
    counts = dict(Worker.objects.values_list("status").annotate(n=Count("pk")).order_by())
    by_status = GaugeMetricFamily(
        "ucfleet_workers", "Worker process rows per status.", labels=["status"]
    )
    for status in WorkerStatus.values:
        by_status.add_metric([status], counts.get(status, 0))
    yield by_status
    ttl = float(settings.UCFLEET["WORKER_TTL_SECONDS"])
    alive = list(Worker.objects.filter(status=WorkerStatus.ALIVE).values_list("name", "heartbeat"))
    ages = GaugeMetricFamily(
        "ucfleet_worker_heartbeat_age_seconds",
        "Seconds since each worker marked alive last beat.",
        labels=["worker"],
    )
    for name, heartbeat in alive:
        ages.add_metric([name], _age(heartbeat, now))
    yield ages
    yield GaugeMetricFamily(
        "ucfleet_workers_live",
        "Workers marked alive whose heartbeat is younger than the TTL.",
        value=sum(1 for _, heartbeat in alive if _age(heartbeat, now) <= ttl),
    )


def outbox(now: datetime) -> Iterator[Metric]:
    queued = Q(status=MailStatus.QUEUED)
    counts = Notification.objects.aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in MailStatus.values},
        due=Count("pk", filter=queued & Q(next_attempt_at__lte=now)),
        oldest_due=Min("created", filter=queued & Q(next_attempt_at__lte=now)),
        retrying=Count("pk", filter=queued & Q(attempts__gt=0)),
    )
    by_status = GaugeMetricFamily(
        "ucfleet_outbox_messages", "E-mails in the outbox per status.", labels=["status"]
    )
    for status in MailStatus.values:
        by_status.add_metric([status], counts[status])
    yield by_status
    yield GaugeMetricFamily(
        "ucfleet_outbox_due", "Queued e-mails whose next attempt is due.", value=counts["due"]
    )
    yield GaugeMetricFamily(
        "ucfleet_outbox_oldest_due_age_seconds",
        "Age of the oldest queued e-mail that is due (0 when none is).",
        value=_age(counts["oldest_due"], now),
    )
    yield GaugeMetricFamily(
        "ucfleet_outbox_retrying",
        "Queued e-mails waiting for another attempt after a failed one.",
        value=counts["retrying"],
    )


class DatabaseCollector(Collector):
    """Reads every ucfleet metric from the database when Prometheus scrapes."""

    def collect(self) -> Iterable[Metric]:
        now = utcnow()
        yield tasks_by_status()
        yield rollouts_by_status()
        yield from due_backlog(now)
        yield task_durations()
        yield from step_durations()
        yield from workers(now)
        yield from outbox(now)

    def describe(self) -> Iterable[Metric]:
        # Registering must not query the database: no families are described up front.
        return []


def ucfleet_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry
