"""Search semantics and the total shown above the list (exact, or a marked estimate on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from relasi.customers import selectors
from relasi.customers.filters import customer_filters_parse
from relasi.customers.models import Customer
from relasi.customers.selectors import customer_queryset

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner estimates and statement timeouts are PostgreSQL's"
)


def names(workspace, **params) -> list[str]:
    filters = customer_filters_parse(params)
    return sorted(customer_queryset(workspace=workspace, filters=filters).values_list("full_name", flat=True))


def test_search_takes_special_characters_literally(acme, make_customer) -> None:
    # given names and emails with characters that mean something in LIKE or a regular expression
    make_customer(acme, "Sari.Ginting")
    make_customer(acme, "SariXGinting")
    make_customer(acme, "Ana (Toko Jaya)", email="ana+promo@toko.id")
    make_customer(acme, "Diskon 100%")
    # when searching with them, then only literal matches come back and nothing fails
    assert names(acme, q="i.G") == ["Sari.Ginting"]
    assert names(acme, q="(toko") == ["Ana (Toko Jaya)"]
    assert names(acme, q="ana+promo") == ["Ana (Toko Jaya)"]
    assert names(acme, q="100%") == ["Diskon 100%"]
    assert names(acme, q="[") == []
    assert names(acme, q="a\\") == []
    assert names(acme, q="_") == []


def test_a_number_typed_from_its_start_matches_only_numbers_that_start_with_it(acme, make_customer) -> None:
    # given a mobile number and a landline that holds the same digits further in
    make_customer(acme, "Mobile", phone="+6281234567890")
    make_customer(acme, "Landline", phone="+622162812345")
    # when the search is written as the start of a number (local, with country code, or E.164)
    assert names(acme, q="0812") == ["Mobile"]
    assert names(acme, q="62812") == ["Mobile"]
    assert names(acme, q="+62 812") == ["Mobile"]
    # then four to seven digits without a leading 0 or country code are the number's end (what people read off it)
    assert names(acme, q="2345") == ["Landline"]
    assert names(acme, q="4567890") == ["Mobile"]
    assert names(acme, q="2812") == []
    # and eight digits or more may sit anywhere in the number
    assert names(acme, q="81234567") == ["Mobile"]
    assert names(acme, q="21628123") == ["Landline"]


def test_the_count_is_the_first_page_when_the_page_holds_the_whole_result(
    acme, make_customer, django_assert_num_queries
) -> None:
    for number in range(3):
        make_customer(acme, f"Customer {number}")
    filters = customer_filters_parse({})
    page = selectors.customer_page(workspace=acme, filters=filters, cursor=None, limit=5)
    with django_assert_num_queries(0):
        count = selectors.customer_count(workspace=acme, filters=filters, first_page=page)
    assert count == selectors.CustomerCount(value=3, is_estimate=False)


def test_a_full_first_page_is_counted(acme, make_customer) -> None:
    for number in range(4):
        make_customer(acme, f"Customer {number}")
    filters = customer_filters_parse({})
    page = selectors.customer_page(workspace=acme, filters=filters, cursor=None, limit=2)
    count = selectors.customer_count(workspace=acme, filters=filters, first_page=page)
    assert count == selectors.CustomerCount(value=4, is_estimate=False)


def analyze_customers() -> None:
    """Fresh planner statistics of the customers table, so its estimates are of the rows this test made."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")


def test_above_the_exact_limit_the_total_is_a_marked_estimate(acme, make_customer, monkeypatch) -> None:
    # given six customers, twice an exact limit of three
    monkeypatch.setattr(selectors, "EXACT_COUNT_LIMIT", 3)
    for number in range(6):
        make_customer(acme, f"Customer {number}")
    if connection.vendor == "postgresql":
        analyze_customers()
    # when they are counted
    count = selectors.customer_count(workspace=acme, filters=customer_filters_parse({}))
    if connection.vendor == "postgresql":
        # then PostgreSQL gives the planner's estimate (of the six rows analysed), marked as one
        assert count.is_estimate is True
        assert count == selectors.CustomerCount(value=6, is_estimate=True)
    else:
        # then SQLite has no planner estimate: it counts, and the count is exact
        assert count == selectors.CustomerCount(value=6, is_estimate=False)


@on_postgresql
def test_below_the_exact_limit_the_total_is_exact(acme, make_customer) -> None:
    for number in range(6):
        make_customer(acme, f"Customer {number}")
    count = selectors.customer_count(workspace=acme, filters=customer_filters_parse({}))
    assert count == selectors.CustomerCount(value=6, is_estimate=False)


@on_postgresql
def test_a_count_over_its_time_budget_gives_up_and_leaves_the_connection_as_it_was(
    acme, make_customer, monkeypatch
) -> None:
    # given one customer whose row takes 50 ms to read, over the 10 ms budget of a count
    make_customer(acme, "Slow to count")
    analyze_customers()
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    filters = customer_filters_parse({})
    fast_queryset = selectors.customer_queryset

    def slow_queryset(**kwargs):
        return fast_queryset(**kwargs).extra(where=["pg_sleep(0.05) IS NOT NULL"])

    monkeypatch.setattr(selectors, "customer_queryset", slow_queryset)
    # when it is counted, the count gives up: the planner's estimate (one row) is raised to just above the
    # exact limit of 1,000, and marked as an estimate
    assert selectors.customer_count(workspace=acme, filters=filters) == selectors.CustomerCount(
        value=1001, is_estimate=True
    )
    # the transaction is still usable and the timeout is what it was
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before
    # and a count within the budget is exact
    monkeypatch.setattr(selectors, "customer_queryset", fast_queryset)
    assert selectors.customer_count(workspace=acme, filters=filters) == selectors.CustomerCount(
        value=1, is_estimate=False
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


def test_four_to_seven_digits_find_a_phones_end_not_a_name_or_an_email(acme, make_customer) -> None:
    # given a phone ending in 1990, a shop named with digits, and an email holding the same digits
    make_customer(acme, "Budi", phone="+6281200001990")
    make_customer(acme, "Toko 1990")
    make_customer(acme, "Sari", email="sari1990@example.com")
    # when searching those four digits alone, then only the phone's end matches
    assert names(acme, q="1990") == ["Budi"]
    # and with letters around them, the name and the email are found as any text is
    assert names(acme, q="toko 1990") == ["Toko 1990"]
    assert names(acme, q="sari1990") == ["Sari"]


def test_a_regular_expression_stopped_at_the_count_budget_is_out_of_time_not_a_server_error() -> None:
    # PostgreSQL answers the count's statement_timeout with 2201B when the cancel lands inside the regex engine
    # (seen at ten million customers: the search page answered 500); the driver's own error classes say so
    import psycopg.errors
    from django.db import DataError

    def wrapped(cause: Exception) -> DataError:
        error = DataError(str(cause))
        error.__cause__ = cause
        return error

    cancelled = psycopg.errors.InvalidRegularExpression("invalid regular expression: operation cancelled")
    assert selectors.count_cancelled_by_budget(wrapped(cancelled)) is True
    timeout = psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
    assert selectors.count_cancelled_by_budget(wrapped(timeout)) is True
    # a pattern that is really wrong is not hidden
    unbalanced = psycopg.errors.InvalidRegularExpression(
        "invalid regular expression: parentheses () not balanced"
    )
    assert selectors.count_cancelled_by_budget(wrapped(unbalanced)) is False


def test_a_phones_end_is_counted_exactly_and_paged_in_order(acme, globex, make_customer) -> None:
    # given five phones ending in 0243 (one deleted), one ending otherwise, and one of another workspace
    for number in range(5):
        make_customer(acme, f"Ends {number}", phone=f"+62812000{number}0243")
    make_customer(acme, "Other end", phone="+6281200001111")
    make_customer(globex, "Their customer", phone="+6281299990243")
    Customer.objects.for_workspace(acme).filter(full_name="Ends 4").update(deleted_at=timezone.now())
    filters = customer_filters_parse({"q": "0243", "sort": "name"})
    # when the list is asked two rows at a time, then the pages hold the live ones of this workspace, in order
    first = selectors.customer_page(workspace=acme, filters=filters, cursor=None, limit=2)
    second = selectors.customer_page(workspace=acme, filters=filters, cursor=first.next_cursor, limit=2)
    assert [c.full_name for c in first.items + second.items] == ["Ends 0", "Ends 1", "Ends 2", "Ends 3"]
    assert second.next_cursor is None
    # and the count says four, exactly
    assert selectors.customer_count(
        workspace=acme, filters=filters, first_page=first
    ) == selectors.CustomerCount(value=4, is_estimate=False)


@on_postgresql
def test_the_database_connection_does_not_compile_queries_just_in_time(db) -> None:
    # a short query on a large table must not pay ~25 ms of JIT compilation (config/settings.py)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
