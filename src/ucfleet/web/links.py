"""Links to one object's page from the long lists: `reverse` once per URL name, the pk put in.

Django's `reverse` costs about 17 µs. A task row links to up to five pages (details, tenant,
postpone, retry, delete), so a page of 50 rows spent some 4 ms on it (bench/lists.py). In
these URLs the pk, an `<int:pk>` path converter, is the only part that changes from row to
row: the URL is reversed once with a mark in its place and the row's pk written there.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse

# An id no row has, long enough never to be part of the rest of a URL.
_MARK = "9007199254740993"


@lru_cache(maxsize=128)
def _around(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    url = reverse(name, args=[int(_MARK)], urlconf=urlconf)
    head, mark, tail = url.rpartition(_MARK)
    if not mark:  # not an `<int:pk>` URL: a programming error, not a row's
        raise ValueError(f"{name} does not take the pk as its only argument")
    return head, tail


def pk_url(name: str, pk: int) -> str:
    """`reverse(name, args=[pk])`, for a URL whose one argument is an `<int:pk>`."""
    head, tail = _around(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"
