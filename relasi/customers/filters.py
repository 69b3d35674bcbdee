"""The All customers filters: one parser per parameter, shared by the page (`customer_filters_parse`) and
the API's query schema, so both accept and refuse the same values with the same words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from relasi.core import timeranges
from relasi.core.inputs import FIRST_YEAR, LAST_YEAR, text_problem
from relasi.customers.models import Channel
from relasi.tenancy.models import Workspace

DATE_MODES = ("all", "today", "last7", "day", "month", "custom")
SORTS = {"recent": ["-updated_at", "-id"], "name": ["full_name", "id"], "-name": ["-full_name", "-id"]}
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The rows-per-page choices of the page (the API takes any `limit` up to MAX_PAGE_SIZE).
PAGE_SIZES = (25, 50, 100)
# Table columns whose header sorts the list: column key → the sorts a click moves between, in order.
SORT_COLUMNS: dict[str, tuple[str, ...]] = {"full_name": ("name", "-name"), "updated_at": ("recent",)}
SEARCH_MAX = 100
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH_PATTERN = re.compile(r"\d{4}-\d{2}")


class FilterValueError(ValueError):
    """One parameter's value is refused; the message says what to send instead."""


class FilterError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class CustomerFilters:
    sources: tuple[str, ...] = ()
    date_mode: str = "all"
    day: date | None = None
    month: str = ""  # YYYY-MM
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""
    sort: str = "recent"
    deleted: bool = False

    @property
    def has_filters(self) -> bool:
        """True when something narrows the list (channels, dates, search): what "Clear filters" takes away."""
        return bool(self.sources or self.date_mode != "all" or self.search)

    def cleared(self) -> CustomerFilters:
        """The same view and sort with no filters."""
        return CustomerFilters(sort=self.sort, deleted=self.deleted)

    def as_query(self) -> dict[str, Any]:
        """The filters as URL/JSON parameters (for links, exports and the API)."""
        query: dict[str, Any] = {}
        if self.sources:
            query["source"] = list(self.sources)
        if self.date_mode != "all":
            query["date"] = self.date_mode
        if self.day:
            query["day"] = self.day.isoformat()
        if self.month:
            query["month"] = self.month
        if self.date_from:
            query["from"] = self.date_from.isoformat()
        if self.date_to:
            query["to"] = self.date_to.isoformat()
        if self.search:
            query["q"] = self.search
        if self.sort != "recent":
            query["sort"] = self.sort
        if self.deleted:
            query["deleted"] = "1"
        return query


def _year_checked(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FilterValueError(
            _("Choose a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


def sources_parse(values: Iterable[Any]) -> tuple[str, ...]:
    """Channels from repeated parameters or comma-separated values, each once, in the order given."""
    parts = [part.strip() for value in values for part in str(value).split(",")]
    sources = tuple(dict.fromkeys(part for part in parts if part))
    unknown = [source for source in sources if source not in Channel.values]
    if unknown:
        raise FilterValueError(_("Unknown channel: %(values)s.") % {"values": ", ".join(unknown)})
    return sources


def date_mode_parse(value: str) -> str:
    mode = value.strip() or "all"
    if mode not in DATE_MODES:
        raise FilterValueError(_("Choose all, today, last7, day, month or custom."))
    return mode


def day_parse(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        if not DAY_PATTERN.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise FilterValueError(_("Use a date like 2026-03-31.")) from None
    _year_checked(day.year)
    return day


def month_parse(value: str) -> str:
    month = value.strip()
    if not month:
        return ""
    try:
        if not MONTH_PATTERN.fullmatch(month):
            raise ValueError(month)
        year = datetime.strptime(month, "%Y-%m").year
    except ValueError:
        raise FilterValueError(_("Use a month like 2026-03.")) from None
    _year_checked(year)
    return month


def sort_parse(value: str) -> str:
    sort = value.strip() or "recent"
    if sort not in SORTS:
        raise FilterValueError(_("Sort by recent, name or -name."))
    return sort


def search_parse(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise FilterValueError(problem)
    # Longer terms are cut, not refused: a pasted paragraph still searches by its start.
    return value.strip()[:SEARCH_MAX]


def deleted_parse(value: str) -> bool:
    text = value.strip()
    if text not in ("", "0", "1"):
        raise FilterValueError(_("Use 1 for the Deleted view, 0 (or nothing) for the others."))
    return text == "1"


def limit_parse(value: Any) -> int:
    text = str(value).strip() if value is not None else ""
    if not text:
        return PAGE_SIZE
    limit = int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise FilterValueError(_("Use a whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE})
    return limit


def page_size_parse(value: Any) -> int:
    """Rows per page on the page: one of PAGE_SIZES, PAGE_SIZE when not given."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return PAGE_SIZE
    if text not in {str(size) for size in PAGE_SIZES}:
        raise FilterValueError(_("Choose 25, 50 or 100 rows per page."))
    return int(text)


@dataclass(frozen=True)
class ColumnSort:
    """A sortable column header: the sort a click applies and how the list is sorted by it now."""

    sort: str
    # For aria-sort: "ascending", "descending" or "none".
    direction: str


def column_sort(column_key: str, filters: CustomerFilters) -> ColumnSort | None:
    """How a column's header sorts the list, or None when it cannot (the Deleted view has one fixed order)."""
    sorts = SORT_COLUMNS.get(column_key)
    if sorts is None or filters.deleted:
        return None
    if filters.sort not in sorts:
        return ColumnSort(sort=sorts[0], direction="none")
    following = sorts[(sorts.index(filters.sort) + 1) % len(sorts)]
    direction = "descending" if SORTS[filters.sort][0].startswith("-") else "ascending"
    return ColumnSort(sort=following, direction=direction)


def _cross_checked(values: dict[str, Any], errors: dict[str, str]) -> None:
    """The rules between parameters: each date mode names what it needs."""
    mode = values.get("date_mode", "all")
    if mode == "day" and values.get("day") is None and "day" not in errors:
        errors["day"] = _("Choose a day.")
    if mode == "month" and not values.get("month") and "month" not in errors:
        errors["month"] = _("Choose a month.")
    if mode == "custom":
        first, last = values.get("date_from"), values.get("date_to")
        if first is None and "from" not in errors:
            errors["from"] = _("Choose the first day.")
        if last is None and "to" not in errors:
            errors["to"] = _("Choose the last day.")
        if first and last and last < first:
            errors["to"] = _("The last day is before the first day.")


PARSERS: dict[str, tuple[str, Any]] = {
    # parameter: (CustomerFilters field, parser of its text)
    "date": ("date_mode", date_mode_parse),
    "day": ("day", day_parse),
    "month": ("month", month_parse),
    "from": ("date_from", day_parse),
    "to": ("date_to", day_parse),
    "q": ("search", search_parse),
    "sort": ("sort", sort_parse),
    "deleted": ("deleted", deleted_parse),
}


def customer_filters_build(values: dict[str, Any], errors: dict[str, str] | None = None) -> CustomerFilters:
    """Filters from parsed values (CustomerFilters field → value); FilterError names each bad parameter,
    with `errors` found before (by the parameter parsers) included."""
    errors = dict(errors or {})
    _cross_checked(values, errors)
    if errors:
        raise FilterError(errors)
    return CustomerFilters(**values)


def customer_filters_parse(params: QueryDict | dict[str, Any]) -> CustomerFilters:
    """Filters from query parameters (a page's GET or POST, a stored export); FilterError names each bad one."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if isinstance(params, QueryDict):
        raw_sources: list[Any] = params.getlist("source")
    else:
        raw = params.get("source") or []
        raw_sources = raw if isinstance(raw, list) else [raw]
    try:
        values["sources"] = sources_parse(raw_sources)
    except FilterValueError as error:
        errors["source"] = str(error)
    for parameter, (name, parse) in PARSERS.items():
        raw_value = params.get(parameter)
        try:
            values[name] = parse(str(raw_value) if raw_value is not None else "")
        except FilterValueError as error:
            errors[parameter] = str(error)
    return customer_filters_build(values, errors)


def customer_date_range(
    *, workspace: Workspace, filters: CustomerFilters, now: datetime | None = None
) -> timeranges.DateRange:
    zone = workspace.zone
    if filters.date_mode == "today":
        return timeranges.range_today(zone=zone, now=now)
    if filters.date_mode == "last7":
        return timeranges.range_last_days(days=7, zone=zone, now=now)
    if filters.date_mode == "day" and filters.day:
        return timeranges.range_day(day=filters.day, zone=zone)
    if filters.date_mode == "month" and filters.month:
        year, month = (int(part) for part in filters.month.split("-"))
        return timeranges.range_month(year=year, month=month, zone=zone)
    if filters.date_mode == "custom" and filters.date_from and filters.date_to:
        return timeranges.range_custom(first_day=filters.date_from, last_day=filters.date_to, zone=zone)
    return timeranges.range_all_time()
