"""Reads for the Customer Data Platform: the All customers list, its filters, columns and counts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, OperationalError, connection, transaction
from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Reverse
from django.db.models.lookups import Regex, StartsWith
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.ids import ids_parse
from relasi.core.pagination import InvalidCursor, Page, keyset_page
from relasi.customers.filters import MAX_PAGE_SIZE, PAGE_SIZE, SORTS, CustomerFilters, customer_date_range
from relasi.customers.models import (
    Channel,
    Customer,
    CustomerMerge,
    CustomerView,
    PropertyDefinition,
    TimelineEntry,
)
from relasi.customers.normalize import display_phone, normalize_email, normalize_phone, phone_search_digits
from relasi.tenancy.models import Workspace

# Up to this many matching rows the total is exact; above it, an estimate (counting a million rows is slow).
EXACT_COUNT_LIMIT = 1000
# How long an exact count may take before the list shows the planner's estimate instead.
COUNT_BUDGET_MS = 10
SKIP_COUNT_ESTIMATE = 20 * EXACT_COUNT_LIMIT
# Fewer digits than this match too many numbers' ends to be worth a search (and 3 digits are an area code).
PHONE_TAIL_MIN_DIGITS = 4
# A query of fewer digits than this (not a number's start) is looked for at the end of phones only: 4 to 7 digits are
# what people read off the end of a number, and "anywhere inside" would be a trigram scan that digits make slow
# (each digit trigram is common) at ten million customers. Eight or more digits are looked for anywhere.
PHONE_INSIDE_MIN_DIGITS = 8
QUERY_CANCELED = "57014"
INVALID_REGULAR_EXPRESSION = "2201B"


def _search_condition(search: str) -> Q:
    digits = phone_search_digits(search)
    whole_number_start = _is_whole_number_start(search)
    tail = phone_tail_digits(search)
    short_tail = tail is not None and len(tail) < PHONE_INSIDE_MIN_DIGITS
    # Four to seven digits alone are a phone's end (or its start), nothing else: digits make trigram searches of
    # names and emails that match thousands of rows at ten million customers, and the planner, adding their
    # estimates, then walks the whole recent-order index for 50 matches (seconds). "Toko 1990" is still found by
    # "toko 1990".
    condition = Q() if short_tail else _name_condition(search) | _email_condition(search)
    if digits and whole_number_start:
        # 0812…, 62812… and +62812… are the start of the number: a prefix, not anywhere inside it.
        condition |= Q(phone__startswith=f"+{digits}")
    elif digits and not short_tail:
        # Anywhere inside the number, its end included.
        condition |= Q(phone__contains=digits)
    if tail and (whole_number_start or short_tail or tail != digits):
        # ...or its end, as typed: "0243" and "0000-0243" are what people read off the last digits of a number.
        # (A "contains" of the same digits already covers the end.)
        condition |= phone_tail_condition(tail)
    return condition


def _name_condition(search: str) -> Q:
    if connection.vendor == "postgresql":
        # The same "contains" as a regular expression of literal characters: pg_trgm plans a regex with
        # fewer, rarer trigrams than the LIKE pattern, which is 2-3x faster on a long term at a million rows.
        # The expressions match the trigram indexes of migration 0002.
        upper_name = Func(F("full_name"), function="UPPER", output_field=TextField())
        return Q(Regex(upper_name, Func(Value(re.escape(search)), function="UPPER")))
    return Q(full_name__icontains=search)


def _email_condition(search: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(email__regex=re.escape(search).lower())
    return Q(email__contains=search.lower())


def phone_tail_digits(search: str) -> str | None:
    """The digits a search may find at the end of a phone: a query of digits and separators only, with at least
    PHONE_TAIL_MIN_DIGITS digits, not written as a whole international number (+62…)."""
    text = search.strip()
    if text.startswith("+") or phone_search_digits(text) is None:
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= PHONE_TAIL_MIN_DIGITS else None


def phone_tail_condition(digits: str) -> Q:
    """Phones that end with `digits` (from `phone_tail_digits`)."""
    if connection.vendor == "postgresql":
        # A suffix is a prefix of the reversed number: a range of the index of migration 0008, whose expression
        # REVERSE("phone") this must stay.
        return Q(StartsWith(Reverse("phone"), digits[::-1]))
    return Q(phone__endswith=digits)


def _is_whole_number_start(search: str) -> bool:
    return search.lstrip().startswith(("0", "+", "62"))


def restorable_since(now: datetime | None = None) -> datetime:
    """Customers deleted at or after this time can still be restored; older ones wait for the purge."""
    return (now or timezone.now()) - timedelta(days=settings.CUSTOMER_DELETED_RETENTION_DAYS)


def customer_queryset(
    *, workspace: Workspace, filters: CustomerFilters, now: datetime | None = None
) -> QuerySet[Customer]:
    """Every customer of the workspace that the filters select (no order, no paging)."""
    rows = _filtered(workspace=workspace, filters=filters, now=now)
    if not filters.search:
        return rows
    ids = _phone_tail_ids(rows, filters.search)
    return rows.filter(_search_condition(filters.search) if ids is None else Q(pk__in=ids))


def _filtered(*, workspace: Workspace, filters: CustomerFilters, now: datetime | None) -> QuerySet[Customer]:
    """The customers the filters other than the search select."""
    rows: QuerySet[Customer] = Customer.objects.for_workspace(workspace).filter(
        deleted_at__isnull=not filters.deleted
    )
    if filters.deleted:
        # Merged customers are not "deleted" to a person: they live on in their survivor.
        rows = rows.filter(deleted_at__gte=restorable_since(now), merged_into__isnull=True)
    if filters.sources:
        rows = rows.filter(source__in=filters.sources)
    window = customer_date_range(workspace=workspace, filters=filters, now=now)
    if window.start is not None:
        rows = rows.filter(updated_at__gte=window.start)
    if window.end is not None:
        rows = rows.filter(updated_at__lt=window.end)
    return rows


def _phone_tail_ids(rows: QuerySet[Customer], search: str) -> list[int] | None:
    """For a search of a phone's last four to seven digits on PostgreSQL, the ids of the customers it finds; None
    for any other search.

    One phone in 10,000 ends with four given digits, but PostgreSQL estimates a range of the reversed-phone index
    from a histogram far coarser than that (92,612 rows for 945 at ten million) and then walks the whole
    recent-order index for the first 50 (2.5 s). The ids come first, through the index alone; the page and its
    neighbours then read those rows by primary key, and the count is their number.
    """
    tail = phone_tail_digits(search)
    if connection.vendor != "postgresql" or tail is None or len(tail) >= PHONE_INSIDE_MIN_DIGITS:
        return None
    return list(rows.filter(_search_condition(search)).values_list("pk", flat=True))


def customer_ordering(filters: CustomerFilters) -> list[str]:
    if filters.deleted:
        return ["-deleted_at", "-id"]
    return SORTS[filters.sort]


def customer_page(
    *, workspace: Workspace, filters: CustomerFilters, cursor: str | None, limit: int = PAGE_SIZE
) -> Page[Customer]:
    """One page of the list, forwards or backwards: `cursor` is a `next_cursor` or `previous_cursor` of a page
    of the same workspace and filters (InvalidCursor otherwise). `page.position` counts the rows before it."""
    rows = customer_queryset(workspace=workspace, filters=filters).select_related("owner", "assignee")
    try:
        return keyset_page(
            rows,
            ordering=customer_ordering(filters),
            cursor=cursor,
            limit=max(1, min(limit, MAX_PAGE_SIZE)),
            scope=_page_scope(workspace=workspace, filters=filters),
        )
    except (ValidationError, ValueError, TypeError) as error:
        # A cursor that decodes but holds values of the wrong type (hand-made, or from another sort)
        # fails only when the database lookup is built; to the caller it is still a bad cursor.
        if cursor and not isinstance(error, InvalidCursor):
            raise InvalidCursor("The cursor does not match this list's sort order.") from error
        raise


def _page_scope(*, workspace: Workspace, filters: CustomerFilters) -> str:
    # A cursor carries the count of rows before its page: it is only right for the list it was taken from.
    return json.dumps([workspace.pk, filters.as_query()], sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class CustomerCount:
    value: int
    is_estimate: bool


@dataclass(frozen=True)
class PageSpan:
    """What the page says about where it is: "51–100 of 30,258", or "of about 1.2 million"."""

    first: int  # number of the page's first row, 1-based; 0 when the page is empty
    last: int
    total: int
    total_is_estimate: bool
    is_first_page: bool
    is_last_page: bool


def customer_page_span(*, page: Page[Customer], count: CustomerCount) -> PageSpan:
    """The page's row numbers and the list's total, made consistent for display.

    An estimate, or an exact count taken while rows were added, can be below the last row number the page
    reached by walking: the total shown is never less than that.
    """
    return PageSpan(
        first=page.first_number,
        last=page.last_number,
        total=max(count.value, page.last_number),
        total_is_estimate=count.is_estimate,
        is_first_page=page.previous_cursor is None,
        is_last_page=page.next_cursor is None,
    )


def customer_count(
    *, workspace: Workspace, filters: CustomerFilters, first_page: Page[Customer] | None = None
) -> CustomerCount:
    """Exact when small; on PostgreSQL, the planner's estimate when counting would be slow.

    `first_page`, a page of the same filters, saves the count when it is the whole result (the first page
    with no next one); any other page is simply not used.
    """
    if first_page is not None and first_page.previous_cursor is None and first_page.next_cursor is None:
        return CustomerCount(value=len(first_page.items), is_estimate=False)
    if filters.search:
        tail_ids = _phone_tail_ids(_filtered(workspace=workspace, filters=filters, now=None), filters.search)
        if tail_ids is not None:
            return CustomerCount(value=len(tail_ids), is_estimate=False)
    rows = customer_queryset(workspace=workspace, filters=filters)
    if connection.vendor != "postgresql":
        return CustomerCount(value=rows.count(), is_estimate=False)
    estimate = _planner_estimate(rows)
    # Far above the exact limit, counting would only confirm what the estimate already says.
    capped = None if estimate > SKIP_COUNT_ESTIMATE else _capped_count_within_budget(rows)
    if capped is not None and capped <= EXACT_COUNT_LIMIT:
        return CustomerCount(value=capped, is_estimate=False)
    return CustomerCount(value=max(estimate, EXACT_COUNT_LIMIT + 1), is_estimate=True)


def _capped_count_within_budget(rows: QuerySet[Customer]) -> int | None:
    """COUNT over at most EXACT_COUNT_LIMIT + 1 rows, given up after COUNT_BUDGET_MS (None).

    A broad search must read many rows to find a thousand matches; past the budget the estimate is
    what the page shows anyway, so the time would be spent for nothing.
    """
    capped = rows.order_by()[: EXACT_COUNT_LIMIT + 1]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(COUNT_BUDGET_MS)])
            value = capped.count()
            # Inside a caller's transaction the local setting would outlive this count.
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return value
    except (OperationalError, DataError) as error:
        if not count_cancelled_by_budget(error):
            raise
        return None


def count_cancelled_by_budget(error: Exception) -> bool:
    """Whether the database stopped the capped count at its time budget.

    PostgreSQL says so with "canceling statement due to statement timeout" (57014), except while it is matching a
    regular expression (the search of names and emails): the regex engine answers the same cancel with
    "invalid regular expression: operation cancelled" (2201B). The search's expressions are escaped literals, so
    that code means the cancel, never a wrong pattern.
    """
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate == QUERY_CANCELED:
        return True
    return sqlstate == INVALID_REGULAR_EXPRESSION and "cancel" in str(error.__cause__)


def _planner_estimate(rows: QuerySet[Customer]) -> int:
    sql, params = rows.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# A tombstone's survivor may itself have been merged since: the chain is followed this far.
MERGE_CHAIN_LIMIT = 10


def customer_merged_into(*, workspace: Workspace, customer_id: int) -> int | None:
    """The live customer a merged customer's id now leads to; None when the id is not a merged customer's."""
    target: int | None = None
    current = customer_id
    for _step in range(MERGE_CHAIN_LIMIT):
        row = (
            Customer.objects.for_workspace(workspace)
            .filter(pk=current)
            .values_list("merged_into_id", "deleted_at")
            .first()
        )
        if row is None:
            return None
        merged_into, deleted_at = row
        if merged_into is None:
            return target if deleted_at is None else None
        target = current = merged_into
    return None


def customer_merges_undoable(*, workspace: Workspace, survivor: Customer) -> list[CustomerMerge]:
    """The merges into this customer that can still be undone (30 days), newest first."""
    rows = CustomerMerge.objects.for_workspace(workspace).filter(
        survivor=survivor, undone_at__isnull=True, expired_at__isnull=True, created_at__gte=restorable_since()
    )
    return list(rows.select_related("merged").order_by("-created_at", "-id"))


def customer_get(*, workspace: Workspace, customer_id: int, include_deleted: bool = False) -> Customer:
    rows = Customer.objects.for_workspace(workspace).select_related("owner", "assignee", "added_by")
    if not include_deleted:
        rows = rows.filter(deleted_at__isnull=True)
    customer = rows.filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    return customer


def _normalized_or_blank(normalize: Callable[[str], str], raw: Any) -> str:
    # An invalid phone or email is the service's to report; here it simply cannot match anyone.
    try:
        return normalize(str(raw or ""))
    except ValidationError:
        return ""


def customer_duplicates(
    *,
    workspace: Workspace,
    phone: Any = "",
    email: Any = "",
    customer: Customer | None = None,
    exclude_ids: Iterable[int | str] = (),
) -> list[Customer]:
    """Live customers with the same phone or email (as typed: normalised here), for the "already exists"
    warning of the page and the `warnings` of the API.

    For an existing `customer` only a phone or email it changes counts: a pair kept on purpose is not
    raised again. `exclude_ids` are customers the user already saw and chose to keep (and the customer
    just created).
    """
    phone = _normalized_or_blank(normalize_phone, phone)
    email = _normalized_or_blank(normalize_email, email)
    if customer is not None:
        phone = "" if phone == customer.phone else phone
        email = "" if email == customer.email else email
    condition = Q()
    if phone:
        condition |= Q(phone=phone)
    if email:
        condition |= Q(email=email)
    if not condition:
        return []
    excluded = set(ids_parse(exclude_ids))
    if customer is not None:
        excluded.add(customer.pk)
    rows = Customer.objects.for_workspace(workspace).filter(condition, deleted_at__isnull=True)
    return list(rows.exclude(pk__in=excluded).order_by("-updated_at")[:5])


# --- Columns and properties -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    is_property: bool = False
    definition: PropertyDefinition | None = field(default=None, compare=False)


DEFAULT_COLUMNS = ["source", "phone", "email", "updated_at", "added_by"]


def property_definitions(*, workspace: Workspace, include_archived: bool = False) -> list[PropertyDefinition]:
    rows = PropertyDefinition.objects.for_workspace(workspace)
    if not include_archived:
        rows = rows.filter(archived_at__isnull=True)
    return list(rows.order_by("position", "id"))


def property_label(definition: PropertyDefinition) -> str:
    """The label to show: built-in labels are translated; custom ones are the workspace's own words."""
    return _(definition.label) if definition.is_builtin else definition.label


def customer_available_columns(*, workspace: Workspace) -> list[Column]:
    """Every column the table can show: the standard ones, then shown built-in and custom properties."""
    columns = [
        Column("full_name", _("Customer name")),
        Column("source", _("Channel")),
        Column("phone", _("Phone number")),
        Column("email", _("Email")),
        Column("updated_at", _("Last update")),
        Column("added_by", _("Added by")),
        Column("owner", _("Owner")),
        Column("assignee", _("Assignee")),
        Column("created_at", _("Created")),
    ]
    taken = {column.key for column in columns}
    for definition in property_definitions(workspace=workspace):
        if definition.key in taken or definition.key == "channel_username" or not definition.is_visible:
            continue
        columns.append(
            Column(
                definition.key,
                property_label(definition),
                is_property=not definition.is_builtin,
                definition=definition,
            )
        )
    return columns


def customer_columns_for_user(*, workspace: Workspace, user: User) -> list[Column]:
    """The user's chosen columns in their order (name always first), or the defaults."""
    available = {column.key: column for column in customer_available_columns(workspace=workspace)}
    view = CustomerView.objects.for_workspace(workspace).filter(user=user).first()
    chosen = view.columns if view is not None else DEFAULT_COLUMNS
    return [available["full_name"]] + [
        available[key] for key in chosen if key in available and key != "full_name"
    ]


CHANNEL_LABELS = dict(Channel.choices)


def customer_cell(customer: Customer, column: Column) -> Any:
    """The value a column shows for a customer."""
    if column.is_property:
        return customer.properties.get(column.key)
    if column.key == "source":
        # A dictionary lookup: get_source_display() rebuilds the choices on every call.
        return str(CHANNEL_LABELS.get(customer.source, customer.source)) if customer.source else ""
    if column.key == "added_by":
        return customer.added_by_label
    if column.key in ("owner", "assignee"):
        person = getattr(customer, column.key)
        return person.full_name if person else ""
    if column.key in ("updated_at", "created_at"):
        return timezone.localtime(getattr(customer, column.key))
    if column.key == "phone":
        return display_phone(customer.phone)
    return getattr(customer, column.key, "")


# --- The activity timeline ---------------------------------------------------------------------------------------

TIMELINE_PAGE_SIZE = 20


def customer_timeline_page(
    *, workspace: Workspace, customer: Customer, cursor: str | None, limit: int = TIMELINE_PAGE_SIZE
) -> Page[TimelineEntry]:
    """The customer's timeline, newest first, one page at a time (InvalidCursor for a cursor of another list)."""
    rows = TimelineEntry.objects.for_workspace(workspace).filter(customer=customer).select_related("actor")
    return keyset_page(
        rows,
        ordering=["-at", "-id"],
        cursor=cursor,
        limit=max(1, min(limit, MAX_PAGE_SIZE)),
        scope=f"timeline:{workspace.pk}:{customer.pk}",
    )
