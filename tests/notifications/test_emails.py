"""Every e-mail kind in English and German, delivered to a real SMTP server (aiosmtpd):
exact recipients, subject, and the body's date, time with zone and version (R15, R16)."""

from __future__ import annotations

import uuid

import pytest

from tests.notifications.helpers import (
    LATEST,
    LATEST_TEXT,
    START_TEXT,
    SUMMER,
    SUMMER_TEXT,
    close_failure_digests,
    deliver,
    in_transaction,
    partner_admin_of,
    task,
    tenant,
)
from ucfleet.notifications.models import Notification
from ucfleet.notifications.services import (
    notify_task_failed,
    notify_tasks_cancelled,
    notify_tasks_created,
    notify_tasks_failed,
    notify_tasks_rescheduled,
)
from ucfleet.updates.choices import Status, TaskType, Timing
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db

FROM = "ucfleet <noreply@ucfleet.example>"


@pytest.fixture
def world(
    berlin,
    platform_admin,
    partner_admin,
    advanced_partner_admin,
    partner_b_admin,
    partner_a,
    partner_b,
    versions,
):
    """Alpha Telecom (English, two administrators) and Beta Networks (German, one), each
    with one tenant in its own language."""
    return {
        "en": {
            "partner": partner_a,
            "admins": ["alpha-admin@ucfleet.example", "alpha-adv@ucfleet.example"],
            "tenant": tenant(partner_a, versions["current"], "alpha-one", language="en"),
        },
        "de": {
            "partner": partner_b,
            "admins": ["beta-admin@ucfleet.example"],
            "tenant": tenant(partner_b, versions["current"], "beta-eins", language="de"),
        },
        "new": versions["new"],
        "scheduler": platform_admin,
    }


def only_message_to(smtp, address):
    [message] = smtp.to(address)
    assert message.message["To"] == address
    assert message.message["From"] == FROM
    assert message.mail_from == "noreply@ucfleet.example"
    return message


def partner_mails(smtp, side):
    mails = [only_message_to(smtp, a) for a in side["admins"]]
    assert len({(m.subject, m.body) for m in mails}) == 1  # the same text for each admin
    return mails[0]


# --- tasks created ---------------------------------------------------------------------------

CREATED_PARTNER = {
    "en": (
        "Update to 14.10 scheduled for 1 UC Tenant of Alpha Telecom",
        "Hello,\n\n"
        "an update task has been scheduled for UC Tenants of Alpha Telecom.\n\n"
        "Target software version: 14.10\n"
        "Scheduled by: plat\n\n"
        "- alpha-one (alpha-one.uc.example): Update from 14.9 to 14.10\n"
        f"  Maintenance window (server time): {START_TEXT}, latest start {LATEST_TEXT}\n\n"
        "All times are server time (Europe/Berlin).\n\n"
        "--\n"
        "ucfleet, the update service of your UC platform. This message was sent automatically.\n",
    ),
    "de": (
        "Update auf 14.10 geplant für 1 UC-Tenant von Beta Networks",
        "Guten Tag,\n\n"
        "für UC-Tenants von Beta Networks wurde eine Update-Aufgabe geplant.\n\n"
        "Ziel-Softwareversion: 14.10\n"
        "Geplant von: plat\n\n"
        "- beta-eins (beta-eins.uc.example): Update von 14.9 auf 14.10\n"
        f"  Wartungsfenster (Serverzeit): {START_TEXT}, spätester Start {LATEST_TEXT}\n\n"
        "Alle Zeiten sind Serverzeit (Europe/Berlin).\n\n"
        "--\n"
        "ucfleet, der Update-Dienst Ihrer UC-Plattform. Diese Nachricht wurde automatisch "
        "versendet.\n",
    ),
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_created_tasks_send_partner_digest_in_partner_language(smtp, world, language):
    request_id = uuid.uuid4()
    for side in ("en", "de"):
        task(
            world[side]["tenant"],
            world["new"],
            request_id=request_id,
            notify_partner=True,
            scheduled_by=world["scheduler"],
        )
    in_transaction(notify_tasks_created, request_id)

    assert deliver() == 3
    mail = partner_mails(smtp, world[language])
    assert (mail.subject, mail.body) == CREATED_PARTNER[language]
    assert mail.message["Content-Language"] == language


def test_partner_digest_names_immediate_timing_recreate_redeploy_and_forced(smtp, world):
    request_id = uuid.uuid4()
    task(
        world["en"]["tenant"],
        world["new"],
        request_id=request_id,
        notify_partner=True,
        timing=Timing.IMMEDIATE,
        latest_start=None,
        task_type=TaskType.RECREATE,
        redeploy=True,
        is_forced=True,
    )
    in_transaction(notify_tasks_created, request_id)
    deliver()
    body = partner_mails(smtp, world["en"]).body
    assert (
        "- alpha-one (alpha-one.uc.example): Re-create from 14.9 to 14.10, with "
        "redeployment, forced\n"
        f"  Immediately: immediately, from {START_TEXT}\n"
    ) in body
    assert "Scheduled by" not in body


CREATED_CUSTOMER = {
    "en": (
        "it@alpha-one.example",
        f"Update of your UC system alpha-one on {START_TEXT}",
        [
            "an update of your UC system alpha-one (alpha-one.uc.example) has been scheduled.",
            "Software version: 14.10",
            f"Date and time: {START_TEXT}\n",
            f"Latest start: {LATEST_TEXT}\n",
            "please contact Alpha Telecom.",
            "All times are server time (Europe/Berlin).",
        ],
    ),
    "de": (
        "it@beta-eins.example",
        f"Update Ihres UC-Systems beta-eins am {START_TEXT}",
        [
            "für Ihr UC-System beta-eins (beta-eins.uc.example) wurde ein Update geplant.",
            "Softwareversion: 14.10",
            f"Datum und Uhrzeit: {START_TEXT}\n",
            f"Spätester Start: {LATEST_TEXT}\n",
            "wenden Sie sich bitte an Beta Networks.",
            "Alle Zeiten sind Serverzeit (Europe/Berlin).",
        ],
    ),
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_created_tasks_send_customer_mail_in_tenant_language(smtp, world, language):
    request_id = uuid.uuid4()
    for side in ("en", "de"):
        task(world[side]["tenant"], world["new"], request_id=request_id, notify_customer=True)
    in_transaction(notify_tasks_created, request_id)

    assert deliver() == 2  # no partner e-mail without Send E-mail
    address, subject, lines = CREATED_CUSTOMER[language]
    mail = only_message_to(smtp, address)
    assert mail.subject == subject
    for line in lines:
        assert line in mail.body
    assert mail.message["Content-Language"] == language


def test_german_customer_mail_full_text(smtp, world):
    request_id = uuid.uuid4()
    task(
        world["de"]["tenant"],
        world["new"],
        request_id=request_id,
        notify_customer=True,
        timing=Timing.IMMEDIATE,
        latest_start=None,
        redeploy=True,
    )
    in_transaction(notify_tasks_created, request_id)
    deliver()
    assert only_message_to(smtp, "it@beta-eins.example").body == (
        "Sehr geehrte Damen und Herren,\n\n"
        "ein Update Ihres UC-Systems beta-eins (beta-eins.uc.example) beginnt jetzt.\n\n"
        "Softwareversion: 14.10\n"
        f"Datum und Uhrzeit: {START_TEXT} (sofort)\n\n"
        "Während des Updates kann Ihr UC-System kurzzeitig nicht erreichbar sein. Das System "
        "wird im Rahmen des Updates neu bereitgestellt.\n"
        "Bei Fragen wenden Sie sich bitte an Beta Networks.\n\n"
        "Alle Zeiten sind Serverzeit (Europe/Berlin).\n\n"
        "--\n"
        "ucfleet, der Update-Dienst Ihrer UC-Plattform. Diese Nachricht wurde automatisch "
        "versendet.\n"
    )


def test_tenant_without_notification_address_gets_no_customer_mail(
    smtp, world, partner_a, versions
):
    silent = tenant(partner_a, versions["current"], "alpha-silent", language="en", email="")
    request_id = uuid.uuid4()
    task(silent, world["new"], request_id=request_id, notify_customer=True)
    task(world["en"]["tenant"], world["new"], request_id=request_id, notify_customer=True)
    in_transaction(notify_tasks_created, request_id)
    assert deliver() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["it@alpha-one.example"]]


# --- cancelled -------------------------------------------------------------------------------

CANCELLED = {
    "en": {
        "partner_subject": "Update cancelled for 1 UC Tenant of Alpha Telecom",
        "partner_line": f"- alpha-one (alpha-one.uc.example): Update to 14.10, was planned for "
        f"{START_TEXT}\n",
        "customer": "it@alpha-one.example",
        "customer_subject": "Update of your UC system alpha-one cancelled",
        "customer_line": "the update of your UC system alpha-one (alpha-one.uc.example) to "
        f"software version 14.10, planned for {START_TEXT}, has been cancelled.",
    },
    "de": {
        "partner_subject": "Update abgesagt für 1 UC-Tenant von Beta Networks",
        "partner_line": f"- beta-eins (beta-eins.uc.example): Update auf 14.10, war geplant für "
        f"{START_TEXT}\n",
        "customer": "it@beta-eins.example",
        "customer_subject": "Update Ihres UC-Systems beta-eins abgesagt",
        "customer_line": f"das für {START_TEXT} geplante Update Ihres UC-Systems beta-eins "
        "(beta-eins.uc.example) auf die Softwareversion 14.10 wurde abgesagt.",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_cancelled_task_notifies_the_same_addresses(smtp, world, language):
    side = world[language]
    cancelled = task(
        side["tenant"],
        world["new"],
        notify_partner=True,
        notify_customer=True,
        status=Status.CANCELLED,
    )
    in_transaction(notify_tasks_cancelled, [cancelled.pk])

    assert deliver() == len(side["admins"]) + 1
    expected = CANCELLED[language]
    mail = partner_mails(smtp, side)
    assert mail.subject == expected["partner_subject"]
    assert expected["partner_line"] in mail.body
    customer = only_message_to(smtp, expected["customer"])
    assert customer.subject == expected["customer_subject"]
    assert expected["customer_line"] in customer.body


def test_cancellation_follows_each_task_own_flags(smtp, world):
    customer_only = task(
        world["en"]["tenant"], world["new"], notify_customer=True, status=Status.CANCELLED
    )
    unnotified = task(world["de"]["tenant"], world["new"], status=Status.CANCELLED)
    in_transaction(notify_tasks_cancelled, [customer_only.pk, unnotified.pk])
    assert deliver() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["it@alpha-one.example"]]


def test_tasks_that_already_ran_get_no_cancellation(smtp, world):
    ran = task(
        world["en"]["tenant"],
        world["new"],
        notify_partner=True,
        notify_customer=True,
        status=Status.EXECUTED,
    )
    in_transaction(notify_tasks_cancelled, [ran.pk])
    assert deliver() == 0


# --- rescheduled -----------------------------------------------------------------------------

RESCHEDULED = {
    "en": {
        "partner_subject": "Update rescheduled for 1 UC Tenant of Alpha Telecom",
        "partner_lines": "- alpha-one (alpha-one.uc.example): Update to 14.10\n"
        f"  previously: {SUMMER_TEXT}\n"
        f"  now: {START_TEXT}, latest start {LATEST_TEXT}\n",
        "customer": "it@alpha-one.example",
        "customer_subject": f"Update of your UC system alpha-one moved to {START_TEXT}",
        "customer_lines": f"Previous date and time: {SUMMER_TEXT}\n"
        f"New date and time: {START_TEXT}\n"
        f"Latest start: {LATEST_TEXT}\n",
    },
    "de": {
        "partner_subject": "Update verschoben für 1 UC-Tenant von Beta Networks",
        "partner_lines": "- beta-eins (beta-eins.uc.example): Update auf 14.10\n"
        f"  bisher: {SUMMER_TEXT}\n"
        f"  neu: {START_TEXT}, spätester Start {LATEST_TEXT}\n",
        "customer": "it@beta-eins.example",
        "customer_subject": f"Update Ihres UC-Systems beta-eins verschoben auf {START_TEXT}",
        "customer_lines": f"Bisheriges Datum und Uhrzeit: {SUMMER_TEXT}\n"
        f"Neues Datum und Uhrzeit: {START_TEXT}\n"
        f"Spätester Start: {LATEST_TEXT}\n",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_rescheduled_task_mail_names_old_and_new_time(smtp, world, language):
    side = world[language]
    moved = task(side["tenant"], world["new"], notify_customer=True)
    in_transaction(notify_tasks_rescheduled, {moved.pk: SUMMER}, notify_partner=True)

    assert deliver() == len(side["admins"]) + 1
    expected = RESCHEDULED[language]
    mail = partner_mails(smtp, side)
    assert mail.subject == expected["partner_subject"]
    assert expected["partner_lines"] in mail.body
    customer = only_message_to(smtp, expected["customer"])
    assert customer.subject == expected["customer_subject"]
    assert expected["customer_lines"] in customer.body


def test_reschedule_without_partner_option_still_tells_a_notified_customer(smtp, world):
    moved = task(world["en"]["tenant"], world["new"], notify_partner=True, notify_customer=True)
    in_transaction(notify_tasks_rescheduled, {moved.pk: SUMMER}, notify_partner=False)
    assert deliver() == 1
    assert [m.rcpt_tos for m in smtp.messages] == [["it@alpha-one.example"]]


def test_a_start_that_did_not_change_is_no_reschedule(smtp, world):
    same = task(world["en"]["tenant"], world["new"], notify_partner=True, notify_customer=True)
    in_transaction(notify_tasks_rescheduled, {same.pk: same.earliest_start}, notify_partner=True)
    assert deliver() == 0


def test_moving_a_task_back_and_forth_tells_each_move(smtp, world):
    moved = task(world["en"]["tenant"], world["new"], notify_customer=True)
    for _ in range(2):
        in_transaction(notify_tasks_rescheduled, {moved.pk: SUMMER}, notify_partner=False)
    assert deliver() == 2


# --- failed ----------------------------------------------------------------------------------

FAILED = {
    "en": (
        "Update of UC Tenant alpha-one failed",
        "Hello,\n\n"
        "an update task for UC Tenants of Alpha Telecom has failed.\n\n"
        f"- alpha-one (alpha-one.uc.example): Update from 14.9 to 14.10, planned for {START_TEXT}\n"
        "  Reason: start window missed\n"
        f"  Failed at: {LATEST_TEXT}\n\n"
        "An administrator can retry the task under Platform | UC Tenant Tasks | Update.\n\n"
        "All times are server time (Europe/Berlin).\n\n"
        "--\n"
        "ucfleet, the update service of your UC platform. This message was sent automatically.\n",
    ),
    "de": (
        "Update des UC-Tenants beta-eins fehlgeschlagen",
        "Guten Tag,\n\n"
        "für UC-Tenants von Beta Networks ist eine Update-Aufgabe fehlgeschlagen.\n\n"
        "- beta-eins (beta-eins.uc.example): Update von 14.9 auf 14.10, geplant für "
        f"{START_TEXT}\n"
        "  Grund: start window missed\n"
        f"  Fehlgeschlagen am: {LATEST_TEXT}\n\n"
        "Ein Administrator kann die Aufgabe unter Plattform | UC-Tenant-Aufgaben | Update "
        "erneut ausführen.\n\n"
        "Alle Zeiten sind Serverzeit (Europe/Berlin).\n\n"
        "--\n"
        "ucfleet, der Update-Dienst Ihrer UC-Plattform. Diese Nachricht wurde automatisch "
        "versendet.\n",
    ),
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_failed_task_tells_partner_admins_the_reason(smtp, world, language):
    side = world[language]
    failed = task(
        side["tenant"],
        world["new"],
        status=Status.FAILED,
        failure_reason="start window missed",
        finished=LATEST,
    )
    in_transaction(notify_task_failed, failed.pk)
    close_failure_digests()

    assert deliver() == len(side["admins"])  # told whatever the task's Send E-mail flag
    mail = partner_mails(smtp, side)
    assert (mail.subject, mail.body) == FAILED[language]


FAILED_DIGEST = {
    "en": (
        "Update failed for 3 UC Tenants of Alpha Telecom",
        "3 update tasks for UC Tenants of Alpha Telecom have failed.\n\n"
        f"- alpha-one (alpha-one.uc.example): Update from 14.9 to 14.10, planned for {START_TEXT}\n"
        "  Reason: start window missed\n"
        f"  Failed at: {LATEST_TEXT}\n"
        "- alpha-three (alpha-three.uc.example): Update from 14.9 to 14.10, planned for "
        f"{START_TEXT}\n"
        "  Reason: step 2 of 3 failed: timeout\n"
        f"  Failed at: {LATEST_TEXT}\n"
        "- alpha-two (alpha-two.uc.example): Update from 14.9 to 14.10, planned for "
        f"{START_TEXT}\n"
        "  Reason: interrupted: worker lost\n"
        f"  Failed at: {LATEST_TEXT}\n\n"
        "An administrator can retry the tasks under Platform | UC Tenant Tasks | Update.\n",
    ),
    "de": (
        "Update fehlgeschlagen für 3 UC-Tenants von Beta Networks",
        "für UC-Tenants von Beta Networks sind 3 Update-Aufgaben fehlgeschlagen.\n\n"
        "- beta-drei (beta-drei.uc.example): Update von 14.9 auf 14.10, geplant für "
        f"{START_TEXT}\n"
        "  Grund: step 2 of 3 failed: timeout\n"
        f"  Fehlgeschlagen am: {LATEST_TEXT}\n"
        "- beta-eins (beta-eins.uc.example): Update von 14.9 auf 14.10, geplant für "
        f"{START_TEXT}\n"
        "  Grund: start window missed\n"
        f"  Fehlgeschlagen am: {LATEST_TEXT}\n"
        "- beta-zwei (beta-zwei.uc.example): Update von 14.9 auf 14.10, geplant für "
        f"{START_TEXT}\n"
        "  Grund: interrupted: worker lost\n"
        f"  Fehlgeschlagen am: {LATEST_TEXT}\n\n"
        "Ein Administrator kann die Aufgaben unter Plattform | UC-Tenant-Aufgaben | Update "
        "erneut ausführen.\n",
    ),
}
REASONS = ["start window missed", "interrupted: worker lost", "step 2 of 3 failed: timeout"]


@pytest.mark.parametrize("language", ["en", "de"])
def test_tasks_failed_together_give_one_digest_per_partner_admin(smtp, world, language, versions):
    names = {"en": ["alpha-two", "alpha-three"], "de": ["beta-zwei", "beta-drei"]}
    failed = {side: [] for side in ("en", "de")}
    request_id = uuid.uuid4()  # one rollout: one digest per administrator
    for side in ("en", "de"):
        tenants = [
            world[side]["tenant"],
            *(
                tenant(world[side]["partner"], versions["current"], n, language=side)
                for n in names[side]
            ),
        ]
        for t, reason in zip(tenants, REASONS, strict=True):
            failed[side].append(
                task(
                    t,
                    world["new"],
                    request_id=request_id,
                    status=Status.FAILED,
                    failure_reason=reason,
                    finished=LATEST,
                )
            )

    # One event for both partners: each partner's administrators hear of its own tasks only.
    in_transaction(notify_tasks_failed, [t.pk for side in failed.values() for t in side])
    close_failure_digests()

    assert deliver() == len(world["en"]["admins"]) + len(world["de"]["admins"])
    mail = partner_mails(smtp, world[language])
    subject, lines = FAILED_DIGEST[language]
    assert mail.subject == subject
    assert lines in mail.body
    notification = Notification.objects.get(recipients=[world[language]["admins"][0]])
    assert sorted(notification.tasks.values_list("pk", flat=True)) == sorted(
        t.pk for t in failed[language]
    )
    # The same event reported again queues nothing new.
    in_transaction(notify_tasks_failed, [t.pk for side in failed.values() for t in side])
    close_failure_digests()
    assert deliver() == 0


def test_inactive_and_addressless_admins_and_other_partners_get_nothing(smtp, world, partner_a):
    partner_admin_of(partner_a, "gone", is_active=False)
    partner_admin_of(partner_a, "no-mail", email="")
    failed = task(
        world["en"]["tenant"],
        world["new"],
        status=Status.FAILED,
        failure_reason="interrupted: worker lost",
    )
    in_transaction(notify_task_failed, failed.pk)
    close_failure_digests()
    deliver()
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == world["en"]["admins"]


def test_every_kind_links_the_tasks_it_concerns(smtp, world):
    request_id = uuid.uuid4()
    t = task(
        world["en"]["tenant"],
        world["new"],
        request_id=request_id,
        notify_partner=True,
        notify_customer=True,
    )
    in_transaction(notify_tasks_created, request_id)
    assert {n.kind for n in t.notifications.all()} == {"created_partner", "created_customer"}
    assert UpdateTask.objects.get(pk=t.pk).notifications.count() == 3
