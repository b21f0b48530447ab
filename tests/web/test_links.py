"""`pk_url` writes what `reverse` writes, under any script prefix."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from ucfleet.web.links import pk_url

ROW_LINKS = [
    "web:tenant",
    "web:task-details",
    "web:task-postpone",
    "web:task-retry",
    "web:task-delete",
]


@pytest.mark.parametrize("name", ROW_LINKS)
@pytest.mark.parametrize("pk", [1, 7, 42, 123456789])
def test_same_as_reverse(name: str, pk: int) -> None:
    assert pk_url(name, pk) == reverse(name, args=[pk])


def test_follows_the_script_prefix() -> None:
    try:
        set_script_prefix("/ucfleet/")
        assert pk_url("web:tenant", 5) == reverse("web:tenant", args=[5]) == "/ucfleet/tenants/5/"
    finally:
        clear_script_prefix()
    assert pk_url("web:tenant", 5) == "/tenants/5/"


def test_refuses_a_url_without_a_pk() -> None:
    with pytest.raises(NoReverseMatch):
        pk_url("web:tenants", 5)
