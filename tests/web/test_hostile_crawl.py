"""Black-box crawl of the portal with hostile input, as a platform and as a partner
administrator (and anonymously, for the login form): every page reached from the dashboard
by following links, every form on them submitted with each field in turn set to hostile
values (far dates, lone surrogates as raw bytes, 20,000 characters, markup, overflowing
numbers, non-ASCII digits, control characters), the other fields left as the page filled
them. No answer may be a 500, and no markup may come back unescaped (neither in the answer
nor on the page it redirects to).

Each submission runs in a savepoint that is rolled back, so every form meets the same world
(a deleted task is there again for the next form). The figures are printed at the end of the
run ("hostile input crawl")."""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote_plus, urlencode, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.factories import UpdateTaskFactory
from tests.hostile import (
    CATEGORIES,
    CORPUS,
    RAW_SURROGATE,
    RAW_SURROGATE_BYTES,
    SURROGATE,
    reflected_markup,
    short,
    tally,
)
from tests.web.crawler import Field, Form, Submit, is_portal_page, local, parse_page, pattern
from ucfleet.maintenance.models import PlatformMaintenance
from ucfleet.notifications.models import Notification
from ucfleet.updates.choices import Status, Timing

pytestmark = pytest.mark.django_db

MAX_PAGES = 120
PER_PATTERN = 2
DATE_KINDS = {"datetime-local", "date", "time"}
DATE_NAME = re.compile(r"(^|_)(start|end|date|until|from|to)$")
FREE_TEXT = {"text", "textarea", "email", "password", "search", "submit"}
# How many of each category's values the default run sends (UCFLEET_HOSTILE_FULL=1: all).
QUICK = {"far_dates": 5, "markup": 2, "numbers": 2}
FULL = os.environ.get("UCFLEET_HOSTILE_FULL") == "1"


@pytest.fixture
def world(platform_admin, a_tenants, b_tenants, versions, schedule, sunday_window):
    """Something of everything, so that every form appears: planned (custom time, with
    e-mails), failed and executed tasks, a maintenance over a planned task, a failed e-mail."""
    later = timezone.now() + timedelta(days=5)
    schedule(
        a_tenants[:1] + b_tenants[:1],
        timing=Timing.CUSTOM,
        start=later,
        notify_partner=True,
        notify_customer=True,
    )
    for tenant, status in [(a_tenants[1], Status.FAILED), (b_tenants[1], Status.FAILED)]:
        UpdateTaskFactory(tenant=tenant, target_version=versions["new"], status=status)
    UpdateTaskFactory(tenant=a_tenants[2], target_version=versions["new"], status=Status.EXECUTED)
    PlatformMaintenance.objects.create(
        start=later - timedelta(hours=1), end=later + timedelta(hours=3), message_en="Upgrade"
    )
    Notification.objects.update(status="failed", last_error="550 refused")


def client_for(admin) -> Client:
    client = Client(raise_request_exception=False)
    if admin is not None:
        client.force_login(admin)
    return client


# --- discovering the forms -------------------------------------------------------------------


def crawl(client: Client, start: str) -> list[Form]:
    """Every distinct form on the pages reachable from `start`."""
    queue: deque[tuple[str, bool]] = deque([(start, False)])
    seen_urls: set[str] = set()
    per_pattern: dict[str, int] = {}
    forms: dict[tuple, Form] = {}
    while queue and len(seen_urls) < MAX_PAGES:
        url, htmx = queue.popleft()
        if url in seen_urls or per_pattern.get(pattern(url), 0) >= PER_PATTERN:
            continue
        seen_urls.add(url)
        per_pattern[pattern(url)] = per_pattern.get(pattern(url), 0) + 1
        response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code < 500, f"GET {url} answered {response.status_code}"
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        page = parse_page(url, response.content.decode())
        for form in page.forms:
            key = signature(form)
            if key not in forms or richness(form) > richness(forms[key]):
                forms[key] = form
        for link, via_htmx in page.links:
            if is_portal_page(link):
                queue.append((local(link), via_htmx))
    return list(forms.values())


def signature(form: Form) -> tuple:
    return (form.method, pattern(form.action), form.htmx)


def richness(form: Form) -> int:
    return len({f.name for f in form.fields}) + len(buttons_of(form))


def buttons_of(form: Form) -> list[Submit]:
    unique = {(b.name, b.value, pattern(b.action)): b for b in form.submits}
    return list(unique.values()) or [Submit()]


# --- filling and submitting -----------------------------------------------------------------


def plausible(item: Field, counter: int) -> str:
    """What a user would type into an empty field, so that the form's other fields reach the
    service when one field is hostile."""
    name = item.name.lower()
    soon = timezone.localtime() + timedelta(days=3)
    if item.kind == "datetime-local":
        return soon.strftime("%Y-%m-%dT%H:%M")
    if item.kind == "date" or name.endswith(("date", "_until")):
        return soon.date().isoformat()
    if item.kind == "time":
        return "01:00"
    if item.kind == "number":
        return "1"
    if item.kind == "email" or "email" in name:
        return f"crawl{counter}@example.com"
    if "password" in name:
        return "a-hostile-crawl-password-1"
    if "domain" in name:
        return f"crawl{counter}.uc.example"
    return f"crawl{counter}"


def baseline(form: Form, counter: int) -> list[tuple[str, str]]:
    names = [f.name for f in form.fields]
    pairs: list[tuple[str, str]] = []
    radios_done: set[str] = set()
    for item in form.fields:
        if item.name == "csrfmiddlewaretoken":
            continue
        if item.kind == "checkbox":
            # A group of checkboxes is a selection (ids, tenants): select all of it.
            if item.checked or names.count(item.name) > 1:
                pairs.append((item.name, item.value))
        elif item.kind == "radio":
            group = [f for f in form.fields if f.name == item.name]
            if item.name not in radios_done:
                chosen = next((f for f in group if f.checked), group[0])
                pairs.append((item.name, chosen.value))
                radios_done.add(item.name)
        elif item.kind == "select":
            chosen_values = item.selected or [next((o for o in item.options if o), "")]
            pairs += [(item.name, value) for value in chosen_values]
        else:
            pairs.append((item.name, item.value or plausible(item, counter)))
    pairs += list(form.extra.items())
    return pairs


def replaced(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in pairs if k != name] + [(name, value)]


def is_date_like(name: str, kinds: set[str]) -> bool:
    return bool(kinds & DATE_KINDS) or DATE_NAME.search(name) is not None


def applies(category: str, name: str, kinds: set[str]) -> bool:
    """Far dates go to date fields; numbers and digits to everything but free text (a
    name may be "99999999999999999999"); the rest to every field."""
    if category == "far_dates":
        return is_date_like(name, kinds)
    if category in ("numbers", "digits"):
        return not kinds <= FREE_TEXT or is_date_like(name, kinds)
    return True


def corpus(category: str, full: bool) -> list[str]:
    values = CORPUS[category]
    return values if full else values[: QUICK.get(category, 1)]


def variants(
    form: Form, category: str, *, full: bool
) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
    """(field, hostile value, pairs) for each field of the form (and each named submit
    button) and each value of the category; date fields also under every choice of the
    form's radio groups (a custom start only counts with timing "custom"). A GET form (a
    list's filters, nothing behind them but the query) takes the value in all its fields at
    once."""
    names = [f.name for f in form.fields if f.name != "csrfmiddlewaretoken"]
    names += [b.name for b in form.submits if b.name]
    names = list(dict.fromkeys(names))
    radios = {f.name for f in form.fields if f.kind == "radio"}
    for raw in corpus(category, full):
        value = raw.replace(SURROGATE, RAW_SURROGATE)
        if form.method == "get":
            pairs = baseline(form, 0)
            for name in names:
                pairs = replaced(pairs, name, value)
            yield "*", value, pairs
            continue
        for counter, name in enumerate(names):
            kinds = {f.kind for f in form.fields if f.name == name} or {"submit"}
            if not applies(category, name, kinds):
                continue
            pairs = replaced(baseline(form, counter), name, value)
            yield name, value, pairs
            if is_date_like(name, kinds):
                for group in radios - {name}:
                    for option in [f.value for f in form.fields if f.name == group]:
                        yield name, value, replaced(pairs, group, option)


def encoded(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs).replace(quote_plus(RAW_SURROGATE), RAW_SURROGATE_BYTES)


def submit(client: Client, form: Form, button: Submit, pairs: list[tuple[str, str]]):
    action = local(button.action or form.action)
    if button.name:
        pairs = [*pairs, (button.name, button.value)]
    headers = {"HX-Request": "true"} if form.htmx else {}
    body = encoded(pairs)
    if form.method == "get":
        return client.get(urlsplit(action).path, QUERY_STRING=body, headers=headers)
    return client.generic(
        "POST",
        action,
        body.encode("ascii"),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def run_crawl(client: Client, forms: list[Form], name: str, *, full: bool = False) -> None:
    record = tally(name)
    category = name.rsplit("/", 1)[-1]
    for form in forms:
        for field_name, value, pairs in variants(form, category, full=full):
            hostile_button = field_name in {b.name for b in form.submits}
            for button in [Submit()] if hostile_button else buttons_of(form):
                where = f"{form.method.upper()} {local(button.action or form.action)}"
                what = f"{where} {button.name}={button.value} {field_name}={short(value)}"
                with transaction.atomic():
                    response = submit(client, form, button, pairs)
                    record.tried += 1
                    pages = [response]
                    location = response.get("Location", "") if response.status_code == 302 else ""
                    # Stored markup shows on the page the form leads to.
                    if category == "markup" and location and is_portal_page(location):
                        pages.append(client.get(local(location)))
                        record.tried += 1
                    transaction.set_rollback(True)
                for page in pages:
                    if page.status_code >= 500:
                        record.server_errors.append(f"{what} → {page.status_code}")
                    markup = reflected_markup(page.content)
                    if markup:
                        record.reflected.append(f"{what} → {markup!r}")


# --- the tests ------------------------------------------------------------------------------


def check(names: list[str]) -> None:
    records = [tally(name) for name in names]
    assert sum(r.tried for r in records) > 0
    errors = [e for r in records for e in r.server_errors]
    assert errors == [], "\n".join(errors)
    reflected = [e for r in records for e in r.reflected]
    assert reflected == [], "\n".join(reflected)


GENERAL = [c for c in CATEGORIES if c != "far_dates"]
ROLES = ["platform", "partner"]


def crawled(role: str, platform_admin, partner_admin) -> tuple[Client, list[Form]]:
    client = client_for(platform_admin if role == "platform" else partner_admin)
    forms = crawl(client, "/")
    assert len(forms) >= (20 if role == "platform" else 12), [f.action for f in forms]
    return client, forms


@pytest.mark.parametrize("role", ROLES)
def test_every_portal_form_survives_hostile_input(
    world, role, advanced_platform_admin, advanced_partner_admin
):
    client, forms = crawled(role, advanced_platform_admin, advanced_partner_admin)
    names = [f"portal/{role}/{category}" for category in GENERAL]
    for name in names:
        run_crawl(client, forms, name, full=FULL)
    check(names)


@pytest.mark.parametrize("role", ROLES)
def test_every_portal_date_field_survives_far_dates(
    world, role, advanced_platform_admin, advanced_partner_admin
):
    client, forms = crawled(role, advanced_platform_admin, advanced_partner_admin)
    name = f"portal/{role}/far_dates"
    run_crawl(client, forms, name, full=FULL)
    check([name])


def test_the_login_form_survives_hostile_input(world):
    client = client_for(None)
    forms = [f for f in crawl(client, "/login/") if f.method == "post"]
    assert any("username" in {x.name for x in f.fields} for f in forms)
    names = [f"portal/anonymous/{category}" for category in GENERAL]
    for name in names:
        run_crawl(client, forms, name, full=FULL)
    check(names)
