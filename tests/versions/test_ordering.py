from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import VersionFactory
from ucfleet.versions.models import SoftwareVersion
from ucfleet.versions.ordering import sort_key, version_key


def test_numeric_parts_compare_as_numbers():
    assert version_key("14.10") > version_key("14.9")
    assert version_key("2.0") < version_key("10.0")
    assert version_key("14.2") < version_key("14.2a") < version_key("14.2b")


@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5),
)
def test_sort_key_orders_like_version_key(a, b):
    x, y = ".".join(map(str, a)), ".".join(map(str, b))
    assert (sort_key(x) < sort_key(y)) == (version_key(x) < version_key(y))


@pytest.mark.django_db
def test_database_orders_versions_by_version_semantics():
    for name in ["14.9", "14.10", "9.1", "14.10.1", "14.2"]:
        VersionFactory(name=name)
    assert list(SoftwareVersion.objects.values_list("name", flat=True)) == [
        "14.10.1",
        "14.10",
        "14.9",
        "14.2",
        "9.1",
    ]
