"""Writing the outbox: same transaction as the change, once per message and event, in
batches (no query per tenant), visible only within the administrator's scope (R1)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.notifications.helpers import close_failure_digests, in_transaction, task, tenant
from ucfleet.core.errors import NotFound
from ucfleet.notifications.choices import Kind
from ucfleet.notifications.compose import LANGUAGES, TEMPLATE_DIR, BulkRenderer, _text, render
from ucfleet.notifications.models import Notification
from ucfleet.notifications.queries import (
    get_notification_for,
    notifications_visible_to,
    status_counts,
    with_list_relations,
)
from ucfleet.notifications.sender import send_due
from ucfleet.notifications.services import (
    DIGEST_KINDS,
    notify_task_failed,
    notify_tasks_cancelled,
    notify_tasks_created,
)
from ucfleet.tenants.models import Tenant
from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_leaves_no_email(berlin, partner_admin, partner_a, versions):
    t = tenant(partner_a, versions["current"], "rolled-back", language="en")
    with pytest.raises(RuntimeError), transaction.atomic():
        request_id = uuid.uuid4()
        task(t, versions["new"], request_id=request_id, notify_partner=True, notify_customer=True)
        notify_tasks_created(request_id)
        assert Notification.objects.count() == 2  # written, inside the transaction
        raise RuntimeError("the change fails after the e-mails were queued")
    assert Notification.objects.count() == 0
    assert Notification.tasks.through.objects.count() == 0
    assert send_due() == 0


@pytest.mark.django_db
def test_one_event_reported_twice_queues_each_mail_once(
    berlin, partner_admin, advanced_partner_admin, partner_a, versions
):
    t = tenant(partner_a, versions["current"], "twice", language="en")
    request_id = uuid.uuid4()
    created = task(
        t,
        versions["new"],
        request_id=request_id,
        notify_partner=True,
        notify_customer=True,
        status=Status.FAILED,
    )
    for _ in range(2):
        in_transaction(notify_tasks_created, request_id)
        in_transaction(notify_task_failed, created.pk)
        close_failure_digests()
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == sorted(
        [Kind.CREATED_PARTNER] * 2 + [Kind.CREATED_CUSTOMER] + [Kind.FAILED_PARTNER] * 2
    )


def queries_to_notify(partner, versions, count, prefix):
    request_id = uuid.uuid4()
    Tenant.objects.bulk_create(
        [
            Tenant(
                name=f"{prefix}-{i}",
                domain=f"{prefix}-{i}.uc.example",
                partner=partner,
                language="de" if i % 2 else "en",
                version=versions["current"],
                notification_email=f"it@{prefix}-{i}.example",
                instance_id=f"i-{prefix}-{i}",
            )
            for i in range(count)
        ]
    )
    for t in Tenant.objects.filter(name__startswith=f"{prefix}-"):
        task(t, versions["new"], request_id=request_id, notify_partner=True, notify_customer=True)
    with CaptureQueriesContext(connection) as queries:
        in_transaction(notify_tasks_created, request_id)
    assert Notification.objects.filter(tasks__request_id=request_id).distinct().count() == count + 2
    return len(queries)


@pytest.mark.django_db
def test_customer_mails_are_inserted_in_batches_not_per_tenant(
    berlin, partner_admin, advanced_partner_admin, partner_a, versions
):
    few = queries_to_notify(partner_a, versions, 5, "few")
    many = queries_to_notify(partner_a, versions, 400, "many")
    # SQLite splits a bulk insert into statements of ~76 rows; one query per tenant would
    # add 400.
    assert many <= few + 10, (few, many)


@pytest.mark.django_db
def test_cancellation_of_many_tasks_is_one_digest_per_admin(
    berlin, partner_admin, partner_a, versions
):
    ids = []
    for i in range(30):
        t = tenant(partner_a, versions["current"], f"c-{i:02d}", language="en")
        ids.append(task(t, versions["new"], notify_partner=True, status=Status.CANCELLED).pk)
    in_transaction(notify_tasks_cancelled, ids)
    digest = Notification.objects.get()
    assert digest.subject == "Update cancelled for 30 UC Tenants of Alpha Telecom"
    assert sorted(digest.tasks.values_list("pk", flat=True)) == sorted(ids)
    assert digest.body.count("\n- c-") == 30


@pytest.mark.django_db
def test_partner_admins_see_only_their_partners_mails(
    berlin, platform_admin, partner_admin, partner_b_admin, partner_a, partner_b, versions
):
    request_id = uuid.uuid4()
    for partner, name in ((partner_a, "mine"), (partner_b, "theirs")):
        t = tenant(partner, versions["current"], name, language=partner.language)
        task(t, versions["new"], request_id=request_id, notify_partner=True, notify_customer=True)
    in_transaction(notify_tasks_created, request_id)

    assert notifications_visible_to(platform_admin).count() == 4
    own = notifications_visible_to(partner_admin)
    assert {r for n in own for r in n.recipients} == {
        "alpha-admin@ucfleet.example",
        "it@mine.example",
    }
    foreign = notifications_visible_to(partner_b_admin).first()
    with pytest.raises(NotFound):
        get_notification_for(partner_admin, foreign.pk)
    with pytest.raises(NotFound):
        get_notification_for(partner_admin, "not-a-number")
    assert get_notification_for(platform_admin, foreign.pk) == foreign
    assert status_counts(partner_admin) == {"queued": 2}
    rows = list(with_list_relations(notifications_visible_to(platform_admin)))
    assert {n.task_count for n in rows} == {1}


@pytest.mark.django_db
def test_task_deletion_keeps_the_mail_that_was_sent_about_it(
    berlin, partner_admin, partner_a, versions
):
    t = tenant(partner_a, versions["current"], "gone-later", language="en")
    request_id = uuid.uuid4()
    created = task(t, versions["new"], request_id=request_id, notify_partner=True)
    in_transaction(notify_tasks_created, request_id)
    UpdateTask.objects.filter(pk=created.pk).delete()
    assert Notification.objects.get().tasks.count() == 0


SAMPLE = {
    "partner": "P & Q",
    "count": 2,
    "zone": "Europe/Berlin",
    "versions": "14.10",
    "scheduled_by": "plat",
    "from_version": "14.9",
    "target_version": "14.10",
    "start": "S",
    "old_start": "O",
    "timing": "T",
    "task_type": "Update",
    "is_recreate": False,
    "forced": True,
    "reason": "R",
    "failed_at": "F",
    "task_lines": "- line\n",
}
SAMPLE["task"] = {**SAMPLE, "tenant": "A & B <1>", "domain": "ab.example"}
# What the rollout e-mail (R21) names besides: kept apart, it has lists (not hashable).
ROLLOUT_SAMPLE = {
    "name": "P & Q rollout",
    "rollout_id": 7,
    "failed_count": 2,
    "ended_count": 10,
    "max_failures": 1,
    "failures": [{"tenant": "A & B <1>", "partner": "P & Q", "reason": "R"}],
}


@pytest.mark.parametrize("kind", Kind.values)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_has_a_one_line_subject_and_plain_text_in_both_languages(kind, language):
    assert (TEMPLATE_DIR / f"{kind}.{language}.txt").is_file()
    context = {**SAMPLE, **ROLLOUT_SAMPLE, "tenant": "A & B <1>", "domain": "x"}
    subject, body = render(kind, language, context)
    assert subject and "\n" not in subject
    assert not body.startswith("\n") and body.endswith("\n")
    assert "A & B <1>" in subject + body or "P & Q" in subject + body  # not HTML-escaped
    assert "&amp;" not in subject + body and "\x00" not in subject + body


@pytest.mark.parametrize("name", [*Kind.values, *(f"{kind}-task" for kind in sorted(DIGEST_KINDS))])
@pytest.mark.parametrize("language", LANGUAGES)
def test_bulk_rendering_gives_the_same_text_as_rendering_each(name, language):
    renderer = BulkRenderer(name)
    for tenant_name, domain in [("A & B <1>", "ab.example"), ("zeta", "z.example")]:
        for flags in [
            {"is_immediate": True, "redeploy": True, "latest_start": ""},
            {"is_immediate": False, "redeploy": False, "latest_start": "L"},
        ]:
            context = {**SAMPLE, **flags, "tenant": tenant_name, "domain": domain}
            del context["task"]
            assert renderer.text(language, context) == _text(name, language, context)
