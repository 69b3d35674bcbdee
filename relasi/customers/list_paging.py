"""What the All customers page shows around its rows (issue 9 item 7): which rows of how many ("51–100 of 30,258",
"of about 1.2 million" when the total is an estimate), the pages before and after, rows per page, the column
headers that sort the list, and "Clear filters". The rules (sizes, sorts, spans) live in filters.py and
selectors.py; this module only turns them into links and words for the template.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import intword
from django.utils.translation import gettext as _

from relasi.core.formatting import format_count
from relasi.core.pagination import Page
from relasi.customers.filters import PAGE_SIZE, PAGE_SIZES, SORT_COLUMNS, CustomerFilters, column_sort
from relasi.customers.models import Customer
from relasi.customers.selectors import CustomerCount, customer_page_span

# From here an estimate reads as words ("1.2 million", "1,2 juta"); below it, as a rounded number.
WORDS_FROM = 1_000_000


@dataclass(frozen=True)
class SortHeader:
    """A column header that sorts: where a click goes, and `aria-sort` when the list is sorted by this column."""

    url: str
    aria_sort: str | None


@dataclass(frozen=True)
class PageSizeChoice:
    size: int
    url: str
    is_current: bool


@dataclass(frozen=True)
class ListPaging:
    span_text: str  # "" when the page has no rows
    previous_url: str | None
    next_url: str | None
    first_url: str | None
    per_page: int
    page_sizes: list[PageSizeChoice]
    sort_headers: dict[str, SortHeader]
    clear_url: str | None
    # Left out of the page's links (and of the filters' requests) to keep shared URLs short.
    default_per_page: int = PAGE_SIZE


def approximate_count(value: int) -> str:
    """An estimated total as a person would say it: "1.2 million" / "1,2 juta", or "30,000" rounded to two
    significant digits below a million (an estimate has no more precision than that)."""
    if value >= WORDS_FROM:
        return str(intword(value))
    digits = len(str(value))
    rounded = round(value, -(digits - 2)) if digits > 2 else value
    return format_count(rounded)


def span_text(*, page: Page[Customer], count: CustomerCount) -> str:
    """ "51–100 of 30,258", or "51–100 of about 1.2 million"; "" for an empty page."""
    span = customer_page_span(page=page, count=count)
    if not span.first:
        return ""
    numbers = {"first": format_count(span.first), "last": format_count(span.last)}
    if span.total_is_estimate:
        return _("%(first)s–%(last)s of about %(total)s") % {
            **numbers,
            "total": approximate_count(span.total),
        }
    return _("%(first)s–%(last)s of %(total)s") % {**numbers, "total": format_count(span.total)}


def _url(list_url: str, filters: CustomerFilters, per_page: int, cursor: str | None = None) -> str:
    query: dict[str, Any] = filters.as_query()
    if per_page != PAGE_SIZE:
        query["per_page"] = str(per_page)
    if cursor:
        query["cursor"] = cursor
    return f"{list_url}?{urlencode(query, doseq=True)}" if query else list_url


def _sort_headers(list_url: str, filters: CustomerFilters, per_page: int) -> dict[str, SortHeader]:
    headers = {}
    for key in SORT_COLUMNS:
        sort = column_sort(key, filters)
        if sort is None:
            continue
        # A new sort starts from its first page: a cursor belongs to one order.
        headers[key] = SortHeader(
            url=_url(list_url, replace(filters, sort=sort.sort), per_page),
            aria_sort=None if sort.direction == "none" else sort.direction,
        )
    return headers


def list_paging(
    *, list_url: str, filters: CustomerFilters, page: Page[Customer], count: CustomerCount, per_page: int
) -> ListPaging:
    """The links and words around one page of the list at `list_url` (the page's path, without a query)."""
    on_first_page = page.previous_cursor is None
    return ListPaging(
        span_text=span_text(page=page, count=count),
        previous_url=None if on_first_page else _url(list_url, filters, per_page, page.previous_cursor),
        next_url=_url(list_url, filters, per_page, page.next_cursor) if page.next_cursor else None,
        # From the third page on: on the second, "Previous page" is the first page already.
        first_url=_url(list_url, filters, per_page) if page.position > per_page else None,
        per_page=per_page,
        # Another page size starts again from the first page (the rows of this one would be cut differently).
        page_sizes=[
            PageSizeChoice(size=size, url=_url(list_url, filters, size), is_current=size == per_page)
            for size in PAGE_SIZES
        ],
        sort_headers=_sort_headers(list_url, filters, per_page),
        clear_url=_url(list_url, filters.cleared(), per_page) if filters.has_filters else None,
    )
