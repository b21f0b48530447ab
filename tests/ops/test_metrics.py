"""`/metrics` scraped over HTTP and parsed with prometheus_client's parser: the values match
the seeded database, the scrape is authenticated, and its query count does not grow."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import TenantFactory, UpdateTaskFactory
from ucfleet.accounts.tokens import issue_token
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.choices import Status as MailStatus
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import Status
from ucfleet.updates.models import TaskAttempt, UpdateTask
from ucfleet.worker.models import Worker, WorkerStatus

pytestmark = pytest.mark.django_db
SCRAPE_TOKEN = "scrape-secret-0123456789"


@pytest.fixture(autouse=True)
def _scrape_token(settings):
    settings.UCFLEET = {**settings.UCFLEET, "METRICS_TOKEN": SCRAPE_TOKEN}


def scrape(client: Client | None = None) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted label items: value}} of one authenticated scrape."""
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


def task(tenant_version, target, *, status, **fields):
    tenant = TenantFactory(partner=fields.pop("partner"), version=tenant_version)
    return UpdateTaskFactory(tenant=tenant, target_version=target, status=status, **fields)


def mail(partner, *, status, **fields):
    now = timezone.now()
    n = Notification.objects.count()
    return Notification.objects.create(
        kind=Kind.FAILED_PARTNER,
        partner=partner,
        recipients=["ops@example.com"],
        language="en",
        subject="s",
        body="b",
        status=status,
        next_attempt_at=fields.pop("next_attempt_at", now),
        created=fields.pop("created", now),
        idempotency_key=f"test.{n}",
        **fields,
    )


def worker(name, *, status, heartbeat):
    return Worker.objects.create(
        name=name,
        hostname="h",
        pid=1,
        concurrency=2,
        status=status,
        started=heartbeat,
        heartbeat=heartbeat,
    )


def has_step_records() -> bool:
    try:
        apps.get_model("updates", "TaskStep")
    except LookupError:
        return False
    return True


def step(task, name, outcome, *, seconds, at):
    attempt = TaskAttempt.objects.create(
        task=task, worker_name="w", started=at - timedelta(minutes=5), finished=at
    )
    apps.get_model("updates", "TaskStep").objects.create(
        attempt=attempt,
        task=task,
        step=name,
        started=at - timedelta(seconds=seconds),
        finished=at,
        outcome=outcome,
    )


@pytest.fixture
def seeded(partner_a, versions):
    now = timezone.now()
    old, new = versions["current"], versions["new"]
    for minutes in (10, 3):  # two due tasks, the oldest due for 10 minutes
        task(
            old,
            new,
            status=Status.PLANNED,
            partner=partner_a,
            earliest_start=now - timedelta(minutes=minutes),
        )
    task(
        old, new, status=Status.PLANNED, partner=partner_a, earliest_start=now + timedelta(hours=1)
    )  # planned, not due yet
    task(
        old,
        new,
        status=Status.PLANNED,
        partner=partner_a,
        earliest_start=now - timedelta(hours=2),
        latest_start=now - timedelta(hours=1),
    )
    task(old, new, status=Status.IN_PROGRESS, partner=partner_a, started=now)
    for seconds in (3, 40, 400):
        task(
            old,
            new,
            status=Status.EXECUTED,
            partner=partner_a,
            started=now - timedelta(seconds=seconds),
            finished=now,
        )
    task(
        old,
        new,
        status=Status.FAILED,
        partner=partner_a,
        started=now - timedelta(seconds=90),
        finished=now,
        failure_reason="x",
    )
    task(old, new, status=Status.CANCELLED, partner=partner_a)
    worker("w-live", status=WorkerStatus.ALIVE, heartbeat=now - timedelta(seconds=4))
    worker("w-silent", status=WorkerStatus.ALIVE, heartbeat=now - timedelta(minutes=5))
    worker("w-old", status=WorkerStatus.STOPPED, heartbeat=now - timedelta(days=1))
    mail(partner_a, status=MailStatus.QUEUED, created=now - timedelta(minutes=7))
    mail(
        partner_a, status=MailStatus.QUEUED, attempts=2, next_attempt_at=now + timedelta(minutes=5)
    )  # waits after a failed attempt
    mail(partner_a, status=MailStatus.SENT, attempts=1)
    mail(partner_a, status=MailStatus.FAILED, attempts=10, last_error="refused")
    if has_step_records():
        done = UpdateTask.objects.filter(status=Status.EXECUTED).first()
        step(done, "pre_check", "succeeded", seconds=0.4, at=now)
        step(done, "update", "succeeded", seconds=20, at=now)
        step(done, "health_check", "failed", seconds=3, at=now)
    return now


def test_metrics_report_the_tasks_workers_and_outbox_of_the_database(seeded):
    s = scrape()

    by_status = {dict(k)["status"]: v for k, v in s["ucfleet_tasks"].items()}
    assert by_status == {
        "planned": 4,
        "in_progress": 1,
        "executed": 3,
        "failed": 1,
        "cancelled": 1,
        "held": 0,
    }
    assert s["ucfleet_tasks_due"][()] == 2
    assert 600 <= s["ucfleet_tasks_due_oldest_age_seconds"][()] < 660

    executed = (("status", "executed"),)
    assert s["ucfleet_task_duration_seconds_count"][executed] == 3
    assert s["ucfleet_task_duration_seconds_sum"][executed] == pytest.approx(443, abs=0.01)
    buckets = {
        dict(k)["le"]: v
        for k, v in s["ucfleet_task_duration_seconds_bucket"].items()
        if dict(k)["status"] == "executed"
    }
    assert buckets["1.0"] == 0 and buckets["5.0"] == 1 and buckets["60.0"] == 2
    assert buckets["300.0"] == 2 and buckets["600.0"] == 3 and buckets["+Inf"] == 3
    assert s["ucfleet_task_duration_seconds_count"][(("status", "failed"),)] == 1

    workers = {dict(k)["status"]: v for k, v in s["ucfleet_workers"].items()}
    assert workers == {"alive": 2, "stopped": 1, "lost": 0}
    ages = {dict(k)["worker"]: v for k, v in s["ucfleet_worker_heartbeat_age_seconds"].items()}
    assert set(ages) == {"w-live", "w-silent"}
    assert 4 <= ages["w-live"] < 60 and ages["w-silent"] >= 300
    assert s["ucfleet_workers_live"][()] == 1  # the silent one is past the 30 s TTL

    outbox = {dict(k)["status"]: v for k, v in s["ucfleet_outbox_messages"].items()}
    assert outbox == {"queued": 2, "sending": 0, "sent": 1, "failed": 1}
    assert s["ucfleet_outbox_due"][()] == 1
    assert s["ucfleet_outbox_retrying"][()] == 1
    assert 420 <= s["ucfleet_outbox_oldest_due_age_seconds"][()] < 480


def test_an_empty_database_reports_zeros(db):
    s = scrape()
    assert set(s["ucfleet_tasks"].values()) == {0}
    assert s["ucfleet_tasks_due"][()] == 0
    assert s["ucfleet_tasks_due_oldest_age_seconds"][()] == 0
    assert s["ucfleet_workers_live"][()] == 0
    assert "ucfleet_task_duration_seconds_count" not in s  # no finished task yet


def test_a_scrape_costs_the_same_queries_for_ten_or_a_hundred_tasks(partner_a, versions):
    def queries_of_one_scrape() -> int:
        with CaptureQueriesContext(connection) as queries:
            scrape()
        return len(queries)

    def add(n):
        now = timezone.now()
        for i in range(n):
            status = [Status.PLANNED, Status.EXECUTED, Status.FAILED][i % 3]
            started = now - timedelta(seconds=i) if status != Status.PLANNED else None
            task(
                versions["current"],
                versions["new"],
                status=status,
                partner=partner_a,
                started=started,
                finished=now if started else None,
                earliest_start=now - timedelta(minutes=i),
            )
        worker(f"w{n}", status=WorkerStatus.ALIVE, heartbeat=now)
        mail(partner_a, status=MailStatus.QUEUED)

    add(10)
    small = queries_of_one_scrape()
    add(90)
    assert queries_of_one_scrape() == small
    # One per family: tasks, rollouts, due, task durations, workers (2), outbox, steps.
    assert small <= 8, small


def test_the_scrape_token_and_platform_tokens_may_scrape_and_nobody_else(
    platform_admin, partner_admin
):
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics")["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token nonsense").status_code == 401
    partner = f"Token {issue_token(partner_admin).key}"
    assert client.get("/metrics", HTTP_AUTHORIZATION=partner).status_code == 403
    platform = f"Token {issue_token(platform_admin).key}"
    response = client.get("/metrics", HTTP_AUTHORIZATION=platform)
    assert response.status_code == 200 and b"ucfleet_tasks_due " in response.content
    # A logged-in portal session is not a scrape credential.
    client.force_login(platform_admin)
    assert client.get("/metrics").status_code == 401
    assert client.post("/metrics", HTTP_AUTHORIZATION=platform).status_code == 405


def test_without_a_configured_scrape_token_no_bearer_token_is_accepted(settings, db):
    settings.UCFLEET = {**settings.UCFLEET, "METRICS_TOKEN": ""}
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer x").status_code == 401


def test_the_grafana_dashboard_uses_exactly_the_metrics_exposed(seeded):
    dashboard = json.loads(
        (Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bucfleet_[a-z_]+", expr)}
    exposed = set(scrape())
    if not has_step_records():  # the step histogram appears with the step records
        used = {n for n in used if not n.startswith("ucfleet_task_step_duration_seconds")}
    assert used <= exposed, used - exposed
    # Every family is on a panel (a histogram through its _bucket, _count or _sum series).
    families = {re.sub(r"_(bucket|count|sum)$", "", n) for n in exposed}
    shown = {re.sub(r"_(bucket|count|sum)$", "", n) for n in used}
    assert families == shown, families ^ shown


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("platform_admin", 200),
        ("advanced_platform_admin", 200),
        ("partner_admin", 403),
        ("advanced_partner_admin", 403),
    ],
)
def test_every_profile_gets_the_answer_its_rules_demand(profile, expected, request):
    admin = request.getfixturevalue(profile)
    answer = Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {issue_token(admin).key}")
    assert answer.status_code == expected
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    answer = Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {issue_token(admin).key}")
    assert answer.status_code == 401  # a deactivated administrator's token is no credential


def test_step_durations_are_a_histogram_by_step_and_outcome(seeded):
    if not has_step_records():
        pytest.skip("the step records (updates.TaskStep) are not in this tree yet")
    s = scrape()
    count = s["ucfleet_task_step_duration_seconds_count"]
    assert count == {
        (("outcome", "succeeded"), ("step", "pre_check")): 1,
        (("outcome", "succeeded"), ("step", "update")): 1,
        (("outcome", "failed"), ("step", "health_check")): 1,
    }
    update = {
        dict(k)["le"]: v
        for k, v in s["ucfleet_task_step_duration_seconds_bucket"].items()
        if dict(k)["step"] == "update"
    }
    assert update["10.0"] == 0 and update["30.0"] == 1 and update["+Inf"] == 1
    key = (("outcome", "succeeded"), ("step", "pre_check"))
    assert s["ucfleet_task_step_duration_seconds_sum"][key] == pytest.approx(0.4, abs=0.01)


def test_metrics_report_rollouts_per_status(versions):
    from django.utils import timezone

    from ucfleet.rollouts.models import Rollout

    for status in ("running", "running", "paused", "completed"):
        Rollout.objects.create(
            name=status, created=timezone.now(), target_version=versions["new"], status=status
        )
    s = scrape()
    by_status = {dict(k)["status"]: v for k, v in s["ucfleet_rollouts"].items()}
    assert by_status == {
        "scheduled": 0,
        "running": 2,
        "paused": 1,
        "completed": 1,
        "aborted": 0,
    }
