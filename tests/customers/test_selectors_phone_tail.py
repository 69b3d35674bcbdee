"""A phone found from its last digits (issue 9, item 9): "0243" or "0000-0243" finds +62 812-0000-0243.

On PostgreSQL the tail is a prefix of REVERSE(phone), a range of the index `customer_phone_tail` (migration 0008).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from relasi.customers.filters import customer_filters_parse
from relasi.customers.models import Customer
from relasi.customers.selectors import customer_queryset, phone_tail_condition, phone_tail_digits

URL = "/api/v1/customers"

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the tail index is PostgreSQL's")


def names(workspace, **params) -> list[str]:
    filters = customer_filters_parse(params)
    return sorted(customer_queryset(workspace=workspace, filters=filters).values_list("full_name", flat=True))


@pytest.fixture
def phones(acme, make_customer) -> None:
    make_customer(acme, "Tail", phone="+6281200000243")
    make_customer(acme, "Middle", phone="+6281202430000")
    make_customer(acme, "Other", phone="+6285711112222")
    make_customer(acme, "No phone")


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("0243", ["Tail"]),
        ("0000-0243", ["Tail"]),
        ("0000 0243", ["Tail"]),
        (" 0000.0243 ", ["Tail"]),
        ("(0000) 0243", ["Tail"]),
        ("00000243", ["Tail"]),
        ("2222", ["Other"]),
        ("0000", ["Middle"]),
    ],
)
def test_digits_from_the_end_of_a_number_find_it(acme, phones, search, expected) -> None:
    # given numbers ending in 0243, holding 0243 in the middle, and others
    # when searching by the last digits, written with or without separators
    # then the number that ends with them is found (and "0000" only where 0000 is its end)
    assert names(acme, q=search) == expected


@pytest.mark.parametrize("search", ["024", "243", "0-2-4", "+0243", "0243a", "02 43x"])
def test_fewer_than_four_digits_a_plus_or_letters_are_no_tail(acme, phones, search) -> None:
    # given the same numbers; when the query is too short, international, or not only digits
    # then it does not match the end of the numbers
    assert names(acme, q=search) == []
    assert phone_tail_digits(search) is None


def test_the_start_of_a_number_still_finds_it(acme, phones) -> None:
    # a number typed from its start is a prefix, as before the tail search
    assert names(acme, q="0812 0000") == ["Tail"]
    assert names(acme, q="+62 812-0000-0243") == ["Tail"]
    assert names(acme, q="0857") == ["Other"]


def test_tail_digits_of_a_query() -> None:
    assert [phone_tail_digits(query) for query in ("0243", "0000-0243", " (021) 555-0243 ", "62 0243")] == [
        "0243",
        "00000243",
        "0215550243",
        "620243",
    ]
    assert [phone_tail_digits(query) for query in ("", "123", "+62812", "budi 0243", "0243\x00")] == [
        None,
        None,
        None,
        None,
        None,
    ]


def test_the_deleted_view_and_filters_apply_to_the_tail(acme, make_customer) -> None:
    # given a live and a deleted customer whose numbers end the same, and one of another channel
    make_customer(acme, "Live", phone="+6281200000243")
    make_customer(acme, "Instagram", phone="+6281300000243", source="instagram")
    gone = make_customer(acme, "Gone", phone="+6281100000243")
    Customer.objects.for_workspace(acme).filter(pk=gone.pk).update(deleted_at=gone.updated_at)
    # when searching each view by the tail, then each finds its own
    assert names(acme, q="0243") == ["Instagram", "Live"]
    assert names(acme, q="0243", source="instagram") == ["Instagram"]
    assert names(acme, q="0243", deleted="1") == ["Gone"]


def test_another_workspace_with_the_same_tail_is_not_found(acme, globex, make_customer) -> None:
    make_customer(acme, "Acme's", phone="+6281200000243")
    make_customer(globex, "Globex's", phone="+6287700000243")
    assert names(acme, q="0243") == ["Acme's"]
    assert names(globex, q="0243") == ["Globex's"]


# --- Through the API and the page, for owner, agent and outsider -------------------------------------------


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_owner_and_agent_find_a_customer_by_its_tail(acme, phones, member, request, client_for) -> None:
    client = client_for(request.getfixturevalue(member))
    # when searching the API and the list page with the last digits
    api = client.get(URL, {"q": "0000-0243"}, HTTP_X_WORKSPACE="acme")
    page = client.get(reverse("customers:list", kwargs={"workspace_slug": "acme"}), {"q": "0000-0243"})
    # then the customer whose number ends with them is the one result
    assert api.status_code == 200
    assert [item["full_name"] for item in api.json()["items"]] == ["Tail"]
    assert api.json()["items"][0]["phone"] == "+6281200000243"
    assert page.status_code == 200
    assert [row.full_name for row in page.context["rows"]] == ["Tail"]


def test_the_api_key_finds_by_tail(acme, phones, acme_key) -> None:
    response = Client().get(URL, {"q": "0243"}, **acme_key)
    assert [item["full_name"] for item in response.json()["items"]] == ["Tail"]
    assert response.json()["total"] == 1


def test_the_outsider_cannot_search_acme_by_tail(acme, phones, charlie, client_for, globex_key) -> None:
    client = client_for(charlie)
    # charlie's session asking for acme, and globex's key (which sees only globex): nothing of acme
    assert client.get(URL, {"q": "0243"}, HTTP_X_WORKSPACE="acme").status_code == 404
    page = client.get(reverse("customers:list", kwargs={"workspace_slug": "acme"}), {"q": "0243"})
    assert page.status_code == 404
    assert Client().get(URL, {"q": "0243"}, **globex_key).json()["items"] == []


# --- The index ------------------------------------------------------------------------------------------------


@on_postgresql
def test_the_tail_is_a_range_of_the_reversed_phone_index(acme, phones) -> None:
    # given the table analysed, and sequential scans ruled out so that the planner shows which index fits
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
    # when the tail condition is explained
    rows = Customer.objects.for_workspace(acme).filter(phone_tail_condition("00000243"))
    plan = rows.explain()
    # then it reads a range of customer_phone_tail: the reversed digits as a prefix, within the workspace
    assert "customer_phone_tail" in plan
    assert "~>=~ '34200000'" in plan
    assert [customer.full_name for customer in rows] == ["Tail"]


@on_postgresql
def test_the_name_search_expression_has_planner_statistics(acme, phones) -> None:
    # given the table analysed
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")
        # when asking what the planner knows of UPPER(full_name), the expression a search matches
        cursor.execute(
            "SELECT s.stxname, d.stxdexpr IS NOT NULL FROM pg_statistic_ext s "
            "JOIN pg_statistic_ext_data d ON d.stxoid = s.oid WHERE s.stxrelid = %s::regclass",
            [Customer._meta.db_table],
        )
        found = cursor.fetchall()
    # then migration 0011's statistics hold its values: a short rare term ("0243") is not guessed to match 0.8 %
    # of the rows, which made the planner walk the whole recent-order index instead of the search indexes
    assert found == [("customer_name_upper_stats", True)]
