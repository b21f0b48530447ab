"""The task list's bulk form carries only the filters the list understands, parsed and
re-rendered by the filter form; "Delete all" fails closed on a filter it cannot apply
(issue 9). The browser is played by reading the bulk form's own fields from the page and
posting them back, as a browser submits them."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ucfleet.updates.choices import Status
from ucfleet.updates.models import UpdateTask

pytestmark = pytest.mark.django_db


class _BulkFormFields(HTMLParser):
    """The name/value pairs a browser submits with `form#bulk-form`'s hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "bulk-form":
            self.inside = True
        elif tag == "input" and self.inside and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def bulk_form_fields(client, url: str) -> dict[str, list[str]]:
    parser = _BulkFormFields()
    parser.feed(client.get(url).content.decode())
    found: dict[str, list[str]] = {}
    for name, value in parser.fields:
        found.setdefault(name, []).append(value)
    return found


def submit(client, url: str, **extra: list[str] | str):
    data = {**bulk_form_fields(client, url), **extra}
    data.pop("csrfmiddlewaretoken", None)
    return client.post("/tasks/bulk/", data)


def _status(task) -> str:
    task.refresh_from_db()
    return task.status


def test_ids_in_the_query_string_never_reach_the_bulk_form(platform_client, a_tenants, schedule):
    ticked, bystander = schedule(a_tenants[:2])
    fields = bulk_form_fields(platform_client, f"/tasks/?ids={bystander.pk}")
    assert "ids" not in fields
    submit(platform_client, f"/tasks/?ids={bystander.pk}", action="delete", ids=[str(ticked.pk)])
    assert _status(ticked) == Status.CANCELLED
    assert _status(bystander) == Status.PLANNED


def test_all_types_in_the_query_string_never_widens_delete_all(
    platform_client, a_tenants, schedule
):
    (update,) = schedule(a_tenants[:1])
    (recreate,) = schedule(a_tenants[1:2], task_type="recreate")
    page = platform_client.get("/tasks/?all_types=1").content.decode()
    assert "Delete all 1 task of this list?" in page
    assert bulk_form_fields(platform_client, "/tasks/?all_types=1")["all_types"] == ["0"]
    submit(platform_client, "/tasks/?all_types=1", action="delete_all")
    assert _status(update) == Status.CANCELLED
    assert _status(recreate) == Status.PLANNED


def test_the_bulk_form_carries_the_parsed_filters_of_the_list(
    platform_client, partner_a, a_tenants, b_tenants, schedule
):
    own = schedule(a_tenants[:2])
    foreign = schedule(b_tenants[:1])
    url = f"/tasks/?partner={partner_a.pk}&status=planned&junk=1&sort=-start"
    fields = bulk_form_fields(platform_client, url)
    assert fields["partner"] == [str(partner_a.pk)] and fields["status"] == ["planned"]
    assert "junk" not in fields and "sort" not in fields
    submit(platform_client, url, action="delete_all")
    assert [_status(t) for t in own] == [Status.CANCELLED, Status.CANCELLED]
    assert _status(foreign[0]) == Status.PLANNED


@pytest.mark.parametrize(
    "query",
    ["partner={foreign}", "status=bogus", "partner=abc", "task_type=recreate", "forced=2"],
)
def test_a_filter_the_list_cannot_apply_lists_nothing_and_delete_all_refuses(
    query, partner_client, partner_b, a_tenants, b_tenants, schedule
):
    own = schedule(a_tenants)
    query = query.format(foreign=partner_b.pk)
    page = partner_client.get(f"/tasks/?{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="filter-errors"' in html
    assert not any(t.tenant.name in html for t in own)
    # A forged "Delete all" with that filter (the button is disabled on such a list).
    answer = partner_client.post(
        "/tasks/bulk/", {"action": "delete_all", "all_types": "0", **dict([query.split("=")])}
    )
    assert answer.status_code == 400
    assert "Nothing was deleted" in answer.content.decode()
    assert not UpdateTask.objects.exclude(status=Status.PLANNED).exists()


def test_a_partner_administrator_may_name_the_own_partner(
    partner_client, partner_a, a_tenants, schedule
):
    own = schedule(a_tenants[:1])
    html = partner_client.get(f"/tasks/?partner={partner_a.pk}").content.decode()
    assert 'data-testid="filter-errors"' not in html and a_tenants[0].name in html
    submit(partner_client, f"/tasks/?partner={partner_a.pk}", action="delete_all")
    assert _status(own[0]) == Status.CANCELLED
