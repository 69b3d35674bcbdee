"""Keyset paging both ways (issue 9, item 7): forwards and backwards give the same rows in the same order as one
long list, for every sort and the Deleted view; positions for "51–100 of 30,258"; cursors that cannot be changed
or carried to another list."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relasi.accounts.models import User
from relasi.core.pagination import InvalidCursor, Page, cursor_read
from relasi.customers.filters import (
    PAGE_SIZE,
    ColumnSort,
    CustomerFilters,
    FilterValueError,
    column_sort,
    customer_filters_parse,
    page_size_parse,
)
from relasi.customers.models import Customer
from relasi.customers.selectors import (
    CustomerCount,
    PageSpan,
    customer_ordering,
    customer_page,
    customer_page_span,
    customer_queryset,
)
from relasi.tenancy.models import Workspace

URL = "/api/v1/customers"
NOW = timezone.now().replace(microsecond=0)
# Few distinct values, so that many rows tie on the sort key and only the id tells them apart.
NAMES = ["Andi", "andi", "Budi", "Budi Santoso", "Citra", "Éka"]
MOMENTS = [NOW - timedelta(hours=hours) for hours in (1, 2, 5)]
LISTS = [
    {"sort": "recent"},
    {"sort": "name"},
    {"sort": "-name"},
    {"deleted": "1"},
]
RELAXED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

rows_strategy = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(MOMENTS), st.booleans()), min_size=0, max_size=24
)


def replace_customers(workspace: Workspace, rows: list[tuple[str, datetime, bool]]) -> None:
    """The workspace's customers become exactly `rows` (name, moment, deleted): updated or deleted at `moment`."""
    Customer.objects.for_workspace(workspace).delete()
    Customer.objects.for_workspace(workspace).bulk_create(
        [
            Customer(
                workspace=workspace, full_name=name, updated_at=moment, deleted_at=moment if gone else None
            )
            for name, moment, gone in rows
        ]
    )


def long_list(workspace: Workspace, filters: CustomerFilters) -> list[int]:
    rows = customer_queryset(workspace=workspace, filters=filters).order_by(*customer_ordering(filters))
    return list(rows.values_list("pk", flat=True))


def page_of(workspace: Workspace, filters: CustomerFilters, cursor: str | None, limit: int) -> Page[Customer]:
    return customer_page(workspace=workspace, filters=filters, cursor=cursor, limit=limit)


def ids(page: Page[Customer]) -> list[int]:
    return [customer.pk for customer in page.items]


def walk_forwards(workspace: Workspace, filters: CustomerFilters, limit: int) -> list[Page[Customer]]:
    pages = [page_of(workspace, filters, None, limit)]
    while pages[-1].next_cursor:
        pages.append(page_of(workspace, filters, pages[-1].next_cursor, limit))
    return pages


# --- The same list forwards and backwards ----------------------------------------------------------------


@pytest.mark.parametrize("params", LISTS, ids=["recent", "name", "-name", "deleted"])
@RELAXED
@given(rows=rows_strategy, limit=st.integers(min_value=1, max_value=7))
def test_forwards_and_backwards_give_the_long_list(acme, params, rows, limit) -> None:
    # given customers with many ties in the sort key, some of them deleted
    replace_customers(acme, rows)
    filters = customer_filters_parse(params)
    expected = long_list(acme, filters)
    # when walking forwards to the end, then backwards to the start
    forwards = walk_forwards(acme, filters, limit)
    backwards = [forwards[-1]]
    while backwards[-1].previous_cursor:
        backwards.append(page_of(acme, filters, backwards[-1].previous_cursor, limit))
    # then both give the long list in its order, in the same pages, each at its position
    assert [pk for page in forwards for pk in ids(page)] == expected
    assert [ids(page) for page in reversed(backwards)] == [ids(page) for page in forwards]
    assert [page.position for page in forwards] == [limit * number for number in range(len(forwards))]
    assert [page.position for page in reversed(backwards)] == [page.position for page in forwards]
    assert forwards[0].previous_cursor is None
    assert forwards[-1].next_cursor is None
    assert all(len(page.items) == limit for page in forwards[:-1])


@pytest.mark.parametrize("params", LISTS, ids=["recent", "name", "-name", "deleted"])
@RELAXED
@given(
    rows=rows_strategy,
    limit=st.integers(min_value=1, max_value=5),
    moves=st.lists(st.booleans(), min_size=1, max_size=12),
)
def test_any_walk_of_next_and_previous_lands_on_the_same_pages(acme, params, rows, limit, moves) -> None:
    # given the pages of the list walked forwards once
    replace_customers(acme, rows)
    filters = customer_filters_parse(params)
    pages = walk_forwards(acme, filters, limit)
    # when zig-zagging with next (True) and previous (False), where the page has one
    number, page = 0, pages[0]
    for forwards in moves:
        if forwards and page.next_cursor:
            number, page = number + 1, page_of(acme, filters, page.next_cursor, limit)
        elif not forwards and page.previous_cursor:
            number, page = number - 1, page_of(acme, filters, page.previous_cursor, limit)
        # then every step shows the page of that number, at its position, with the same neighbours
        assert ids(page) == ids(pages[number])
        assert page.position == pages[number].position
        assert (page.previous_cursor is None) == (number == 0)
        assert (page.next_cursor is None) == (number == len(pages) - 1)


def test_the_first_page_has_no_previous_cursor_and_an_empty_list_no_cursor_at_all(acme) -> None:
    # given no customers, then three
    empty = page_of(acme, CustomerFilters(), None, 2)
    replace_customers(
        acme, [("Andi", MOMENTS[0], False), ("Budi", MOMENTS[1], False), ("Citra", MOMENTS[2], False)]
    )
    # when reading the first page of each
    first = page_of(acme, CustomerFilters(), None, 2)
    # then neither has a previous page; only the second list has a next one
    assert (empty.items, empty.next_cursor, empty.previous_cursor, empty.position) == ([], None, None, 0)
    assert [customer.full_name for customer in first.items] == ["Andi", "Budi"]
    assert first.previous_cursor is None
    assert first.next_cursor is not None
    assert (first.position, first.first_number, first.last_number) == (0, 1, 2)
    assert (empty.first_number, empty.last_number) == (0, 0)


# --- When the list or the page size changes while paging -------------------------------------------------


def test_a_larger_page_size_backwards_fills_a_whole_first_page(acme) -> None:
    # given ten customers walked forwards three at a time to the third page (rows 7-9)
    replace_customers(acme, [(f"Name {index:02d}", NOW, False) for index in range(10)])
    filters = CustomerFilters(sort="name")
    third = walk_forwards(acme, filters, 3)[2]
    # when going back with 5 rows per page, twice
    back = page_of(acme, filters, third.previous_cursor, 5)
    start = page_of(acme, filters, back.previous_cursor, 5)
    # then the first step shows the 5 rows before, and the second the whole first page (not a page of one row)
    assert [customer.full_name for customer in back.items] == [f"Name {index:02d}" for index in range(1, 6)]
    assert (back.position, back.first_number, back.last_number) == (1, 2, 6)
    assert [customer.full_name for customer in start.items] == [f"Name {index:02d}" for index in range(5)]
    assert (start.position, start.previous_cursor) == (0, None)


def test_rows_added_at_the_top_while_paging_are_counted_once_the_walk_reaches_them(acme) -> None:
    # given nine customers walked forwards three at a time to the last page (position 6)
    replace_customers(acme, [(f"Old {index}", NOW - timedelta(days=index + 1), False) for index in range(9)])
    filters = CustomerFilters()
    last = walk_forwards(acme, filters, 3)[-1]
    assert last.position == 6
    # when four customers are updated now (they go to the top of "recent") and the walk goes back to the start
    Customer.objects.for_workspace(acme).bulk_create(
        [Customer(workspace=acme, full_name=f"New {index}", updated_at=NOW) for index in range(4)]
    )
    pages = [last]
    while pages[-1].previous_cursor:
        pages.append(page_of(acme, filters, pages[-1].previous_cursor, 3))
    # then the first step back is off by the four rows it cannot know of (3, not 7); the step that would claim
    # position 0 with rows before it counts them instead, the positions are exact from there, and the walk ends
    # on the real first page
    expected = long_list(acme, filters)
    assert [page.position for page in pages] == [6, 3, 4, 1, 0]
    assert expected.index(pages[1].items[0].pk) == 7
    assert [page.position for page in pages[2:]] == [expected.index(page.items[0].pk) for page in pages[2:]]
    assert ids(pages[-1]) == expected[:3]


def test_an_empty_page_after_deletions_leads_back_to_the_page_before(acme) -> None:
    # given five customers and the next cursor of the first page of two
    replace_customers(acme, [(f"Name {index}", NOW, False) for index in range(5)])
    filters = CustomerFilters(sort="name")
    first = page_of(acme, filters, None, 2)
    # when every row after the first page is deleted and the next cursor is followed, then previous
    Customer.objects.for_workspace(acme).exclude(pk__in=ids(first)).update(deleted_at=NOW)
    empty = page_of(acme, filters, first.next_cursor, 2)
    back = page_of(acme, filters, empty.previous_cursor, 2)
    # then the empty page is the end, and previous shows the first page again
    assert (empty.items, empty.next_cursor, empty.position) == ([], None, 2)
    assert ids(back) == ids(first)
    assert (back.position, back.previous_cursor) == (0, None)


# --- Cursors that cannot be changed or carried -----------------------------------------------------------


def test_a_cursor_cannot_be_used_for_another_sort_other_filters_or_another_workspace(acme, globex) -> None:
    # given a cursor of the name sort in acme
    replace_customers(acme, [(f"Name {index}", NOW, False) for index in range(5)])
    replace_customers(globex, [(f"Globex {index}", NOW, False) for index in range(5)])
    cursor = page_of(acme, CustomerFilters(sort="name"), None, 2).next_cursor
    # when it is used for another sort, a search, or the same list in another workspace
    # then each is refused with a reason
    with pytest.raises(InvalidCursor, match="sort order"):
        page_of(acme, CustomerFilters(sort="-name"), cursor, 2)
    with pytest.raises(InvalidCursor, match="another list"):
        page_of(acme, CustomerFilters(sort="name", search="Name"), cursor, 2)
    with pytest.raises(InvalidCursor, match="another list"):
        page_of(globex, CustomerFilters(sort="name"), cursor, 2)


def test_a_cursor_says_its_direction_and_position(acme) -> None:
    # given the second page of five customers, two per page
    replace_customers(acme, [(f"Name {index}", NOW, False) for index in range(5)])
    filters = CustomerFilters(sort="name")
    second = page_of(acme, filters, page_of(acme, filters, None, 2).next_cursor, 2)
    ordering = customer_ordering(filters)
    scope = json.dumps([acme.pk, {"sort": "name"}], separators=(",", ":"))
    # when its cursors are read
    following = cursor_read(second.next_cursor or "", ordering=ordering, scope=scope)
    preceding = cursor_read(second.previous_cursor or "", ordering=ordering, scope=scope)
    # then each says which way it goes, from which row, and how many rows come before
    assert (following.direction, following.values[0], following.position) == ("n", "Name 3", 4)
    assert (preceding.direction, preceding.values[0], preceding.position) == ("p", "Name 2", 2)


@pytest.mark.parametrize(
    "token",
    ["", "x" * 1001, "not-a-cursor!", "eyJkIjoibiJ9.signature", "WyJhXHUwMDAwIiwxXQ"],
    ids=["empty", "too-long", "garbage", "forged-signature", "unsigned-old-style"],
)
def test_a_cursor_not_handed_out_by_the_list_is_refused(token) -> None:
    with pytest.raises(InvalidCursor) as refused:
        cursor_read(token, ordering=["full_name", "id"], scope="")
    assert str(refused.value) == "The cursor is not valid."


def test_the_api_refuses_another_workspaces_cursor(acme, globex, acme_key, globex_key) -> None:
    # given acme's cursor of a list of five
    replace_customers(acme, [(f"Name {index}", NOW, False) for index in range(5)])
    replace_customers(globex, [(f"Globex {index}", NOW, False) for index in range(5)])
    cursor = Client().get(URL, {"limit": 2}, **acme_key).json()["next_cursor"]
    # when the outsider's key sends it
    response = Client().get(URL, {"limit": 2, "cursor": cursor}, **globex_key)
    # then it is a 400 problem naming the cursor, with no rows of either workspace
    assert response.status_code == 400
    assert response.json()["type"] == "https://relasi.dev/problems/invalid-cursor"
    assert "items" not in response.json()


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_the_api_pages_back_for_owner_and_agent(acme, member, request, client_for) -> None:
    # given five customers and the member's session
    user: User = request.getfixturevalue(member)
    replace_customers(acme, [(f"Name {index}", NOW, False) for index in range(5)])
    client = client_for(user)

    def get(**params: Any) -> dict[str, Any]:
        response = client.get(URL, {"sort": "name", "limit": 2, **params}, HTTP_X_WORKSPACE="acme")
        assert response.status_code == 200
        return response.json()

    # when walking to the second page of two and back one page
    first = get()
    second = get(cursor=first["next_cursor"])
    back = get(cursor=second["previous_cursor"])
    # then the page before is the first page again
    assert [item["full_name"] for item in back["items"]] == ["Name 0", "Name 1"]
    assert (back["position"], back["previous_cursor"], second["position"]) == (0, None, 2)


def test_the_outsider_cannot_list_acme_with_its_cursor(acme, charlie, client_for) -> None:
    # given acme's cursor
    replace_customers(acme, [(f"Name {index}", NOW, False) for index in range(5)])
    cursor = customer_page(workspace=acme, filters=CustomerFilters(), cursor=None, limit=2).next_cursor
    # when charlie (of another workspace) asks for acme's list with it
    response = client_for(charlie).get(URL, {"limit": 2, "cursor": cursor}, HTTP_X_WORKSPACE="acme")
    # then acme is not found for charlie
    assert response.status_code == 404


# --- What the page shows around the list ------------------------------------------------------------------


def test_page_span_says_which_rows_of_how_many() -> None:
    # given the third page of fifty and a count, exact or estimated
    page: Page[Customer] = Page(
        items=[Customer(pk=index) for index in range(50)], next_cursor="n", previous_cursor="p", position=100
    )
    exact = customer_page_span(page=page, count=CustomerCount(value=30258, is_estimate=False))
    low_estimate = customer_page_span(page=page, count=CustomerCount(value=120, is_estimate=True))
    # then it is "101–150 of 30,258", and an estimate below the rows reached says at least that many
    assert exact == PageSpan(
        first=101, last=150, total=30258, total_is_estimate=False, is_first_page=False, is_last_page=False
    )
    assert (low_estimate.total, low_estimate.total_is_estimate) == (150, True)


@pytest.mark.parametrize(
    ("column", "params", "expected"),
    [
        ("full_name", {}, ColumnSort(sort="name", direction="none")),
        ("full_name", {"sort": "name"}, ColumnSort(sort="-name", direction="ascending")),
        ("full_name", {"sort": "-name"}, ColumnSort(sort="name", direction="descending")),
        ("updated_at", {}, ColumnSort(sort="recent", direction="descending")),
        ("updated_at", {"sort": "name"}, ColumnSort(sort="recent", direction="none")),
        ("email", {}, None),
        ("full_name", {"deleted": "1"}, None),
    ],
)
def test_column_headers_sort_by_the_sorts_that_exist(column, params, expected) -> None:
    assert column_sort(column, customer_filters_parse(params)) == expected


def test_rows_per_page_are_25_50_or_100() -> None:
    assert [page_size_parse(value) for value in ("", None, "25", " 50 ", "100")] == [
        PAGE_SIZE,
        PAGE_SIZE,
        25,
        50,
        100,
    ]
    for refused in ("10", "200", "abc", "-25", "25.0"):
        with pytest.raises(FilterValueError) as error:
            page_size_parse(refused)
        assert str(error.value) == "Choose 25, 50 or 100 rows per page."


def test_clear_filters_keeps_the_view_and_sort() -> None:
    params: dict[str, Any] = {
        "q": "budi",
        "source": "whatsapp",
        "date": "last7",
        "sort": "-name",
        "deleted": "1",
    }
    filters = customer_filters_parse(params)
    assert filters.has_filters is True
    assert filters.cleared() == CustomerFilters(sort="-name", deleted=True)
    assert filters.cleared().has_filters is False
    assert CustomerFilters(sort="name").has_filters is False
