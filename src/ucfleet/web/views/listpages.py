"""Pages of the long portal lists (UC tenants, tasks): keyset "Next"/"Previous" links, the
page number still accepted (`?page=N`, OFFSET), and a count that says when it is an
estimate (core.paging). Same number of queries as a Paginator page: a count and the rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from ucfleet.core.paging import (
    Cursor,
    InvalidCursor,
    bounded_count,
    keyset_slice,
    offset_slice,
)
from ucfleet.web.views.common import PAGE_SIZE, PAGE_SIZES


@dataclass
class Counted:
    count: int
    num_pages: int
    estimated: bool


@dataclass
class ListPage:
    """What templates read of a Django Page, plus the cursors and `count_estimated`."""

    object_list: list[Any]
    number: int
    size: int
    paginator: Counted
    next_cursor: str = ""
    previous_cursor: str = ""
    more_before: bool = False
    more_after: bool = False

    @property
    def count_estimated(self) -> bool:
        return self.paginator.estimated

    def has_next(self) -> bool:
        return self.more_after

    def has_previous(self) -> bool:
        return self.more_before

    def has_other_pages(self) -> bool:
        return self.more_before or self.more_after

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return max(1, self.number - 1)

    def start_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.size + len(self.object_list)


def _page_size(request: HttpRequest, per_page: int) -> int:
    try:
        size = int(request.GET.get("page_size", per_page))
    except ValueError:
        size = per_page
    return size if size in PAGE_SIZES else per_page


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else 1


def paginate_keyset(
    request: HttpRequest, queryset: QuerySet[Any], *, per_page: int = PAGE_SIZE
) -> ListPage:
    """The page `?cursor=` names (keyset), else `?page=N` (OFFSET); a cursor that is not
    one of this list's falls back to the first page, as a bad page number does."""
    size = _page_size(request, per_page)
    number = _page_number(request)
    count, estimated = bounded_count(queryset)
    pages = max(1, math.ceil(count / size))
    piece = None
    if request.GET.get("cursor"):
        try:
            piece = keyset_slice(queryset, size, Cursor.decode(request.GET["cursor"]))
        except InvalidCursor:
            number = 1
        else:
            number = number if piece.has_before else 1
    if piece is None:
        number = min(number, pages)  # an estimate's last page at most: no unbounded OFFSET
        piece = offset_slice(queryset, size, number)
    return ListPage(
        object_list=piece.rows,
        number=number,
        size=size,
        paginator=Counted(count, pages, estimated),
        next_cursor=piece.last.encode() if piece.last and piece.has_after else "",
        previous_cursor=piece.first.encode() if piece.first and piece.has_before else "",
        more_before=piece.has_before,
        more_after=piece.has_after,
    )
