"""An export of 100,000 tasks (the portal's button and the API's `?format=csv`) streams
every row while the process's memory stays bounded: rows are read in keyset chunks and
written as they come (tracemalloc measures the peak)."""

from __future__ import annotations

import tracemalloc

import pytest

from tests.web.conftest import client_for
from tests.web.test_large_lists import ROWS, hundred_thousand  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PEAK_LIMIT = 50 * 1024 * 1024  # bytes; the whole export as one string would be ~20 MB


@pytest.mark.parametrize("url", ["/tasks/export/", "/api/v1/update-tasks/?format=csv"])
def test_exporting_100000_tasks_streams_every_row_within_bounded_memory(
    hundred_thousand,  # noqa: F811
    platform_admin,
    url,
):
    client = client_for(platform_admin)  # a session: the portal and the API both take it
    tracemalloc.start()
    try:
        response = client.get(url)
        assert response.streaming
        lines = 0
        size = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            size += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == ROWS + 1  # the header and every task
    print(f"exported {lines - 1} rows, {size / 1e6:.1f} MB, peak traced memory {peak / 1e6:.1f} MB")
    assert peak < PEAK_LIMIT
    # The bound means something: the export is larger than what was held at once.
    assert size > peak
