"""The All customers page around its rows (issue 9 item 7): Previous/Next/First page, "51–100 of 30,258" (or
"of about 1.2 million"), rows per page 25/50/100, column headers that sort (aria-sort), "Clear filters"."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relasi.customers import selectors
from relasi.customers.models import Customer
from relasi.tenancy.models import Workspace

NOW = timezone.now().replace(microsecond=0)


def list_url(slug: str = "acme") -> str:
    return reverse("customers:list", kwargs={"workspace_slug": slug})


def sixty(workspace: Workspace) -> list[str]:
    """Sixty customers, "Customer 00" the most recently updated; their names in the default (recent) order."""
    Customer.objects.for_workspace(workspace).bulk_create(
        [
            Customer(
                workspace=workspace,
                full_name=f"Customer {index:02d}",
                updated_at=NOW - timedelta(minutes=index),
            )
            for index in range(60)
        ]
    )
    return [f"Customer {index:02d}" for index in range(60)]


def names(response: Any) -> list[str]:
    return [row.full_name for row in response.context["rows"]]


def link_of(response: Any, testid: str) -> str | None:
    found = re.search(rf'href="([^"]*)"[^>]*data-testid="{testid}"', response.content.decode())
    return unescape(found.group(1)) if found else None


def span(response: Any) -> str:
    found = re.search(r'data-testid="page-span"[^>]*>([^<]*)<', response.content.decode())
    assert found is not None
    return found.group(1)


# --- Walking the pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_next_and_previous_walk_the_list_both_ways(acme, member, request, client_for) -> None:
    # given sixty customers and a member's session, 25 rows per page
    expected = sixty(acme)
    client: Client = client_for(request.getfixturevalue(member))
    # when walking forwards with "Next page" to the end
    first = client.get(list_url(), {"per_page": "25"})
    second = client.get(link_of(first, "next-page") or "")
    third = client.get(link_of(second, "next-page") or "")
    # then each page says which rows of how many, and links where it can go
    assert [names(first), names(second), names(third)] == [expected[:25], expected[25:50], expected[50:]]
    assert [span(first), span(second), span(third)] == ["1–25 of 60", "26–50 of 60", "51–60 of 60"]
    assert link_of(first, "previous-page") is None
    assert link_of(third, "next-page") is None
    assert link_of(second, "first-page") is None  # its previous page is the first one
    assert link_of(third, "first-page") == f"{list_url()}?per_page=25"
    # and when walking back with "Previous page", the same pages come back in reverse
    back_second = client.get(link_of(third, "previous-page") or "")
    back_first = client.get(link_of(back_second, "previous-page") or "")
    assert [names(back_second), names(back_first)] == [expected[25:50], expected[:25]]
    assert [span(back_second), span(back_first)] == ["26–50 of 60", "1–25 of 60"]
    assert link_of(back_first, "previous-page") is None


def test_the_table_fragment_pages_back_too(acme, alice, client_for) -> None:
    # given the second page of the name sort, asked for by htmx (the table only)
    expected = sorted(sixty(acme))
    client = client_for(alice)
    first = client.get(list_url(), {"sort": "name", "per_page": "25"})
    second = client.get(
        link_of(first, "next-page") or "", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table"
    )
    # when its previous link is followed the same way
    back = client.get(
        link_of(second, "previous-page") or "", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table"
    )
    # then the fragments hold the pages, with their sort and size for the filter form above them
    assert second.content.decode().lstrip().startswith('<div id="customer-table"')
    assert 'data-sort="name" data-per-page="25"' in second.content.decode()
    assert names(second) == expected[25:50]
    assert names(back) == expected[:25]


def test_the_outsider_gets_no_page_with_acmes_cursor(acme, globex, alice, charlie, client_for) -> None:
    # given a next-page link of acme's list
    sixty(acme)
    link = link_of(client_for(alice).get(list_url(), {"per_page": "25"}), "next-page") or ""
    # when charlie follows it, and asks for acme's list with his own workspace's slug in the path
    response = client_for(charlie).get(link)
    # then acme is not found for him, and the cursor is worthless in his workspace
    assert response.status_code == 404
    assert client_for(charlie).get(link.replace("/acme/", "/globex/")).status_code == 400


# --- Totals ----------------------------------------------------------------------------------------------------


def test_an_estimated_total_reads_as_about(acme, alice, client_for, monkeypatch) -> None:
    # given a list the database estimates at 1,234,567 rows
    sixty(acme)
    monkeypatch.setattr(
        selectors,
        "customer_count",
        lambda **kwargs: selectors.CustomerCount(value=1_234_567, is_estimate=True),
    )
    # when the first page is shown in English and in Indonesian
    english = client_for(alice).get(list_url(), HTTP_ACCEPT_LANGUAGE="en")
    indonesian = client_for(alice).get(list_url(), HTTP_ACCEPT_LANGUAGE="id")
    # then the total is "about 1.2 million", in words of each language
    assert span(english) == "1–50 of about 1.2 million"
    assert span(indonesian).startswith("1–50 ")
    assert span(indonesian).endswith(" 1,2 juta")


def test_counts_are_grouped_in_the_readers_language(acme, alice, client_for, monkeypatch) -> None:
    # given an exact total of 30,258 and the third page of fifty
    sixty(acme)
    monkeypatch.setattr(
        selectors, "customer_count", lambda **kwargs: selectors.CustomerCount(value=30_258, is_estimate=False)
    )
    client = client_for(alice)
    first = client.get(list_url(), HTTP_ACCEPT_LANGUAGE="id")
    # when shown in Indonesian and in English
    english = client.get(list_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then thousands are grouped as each language writes them
    assert span(first).startswith("1–50 ")
    assert span(first).endswith(" 30.258")
    assert "1–50 of 30,258" in english
    assert "30,258 customers" in english


# --- Rows per page ---------------------------------------------------------------------------------------------


def test_rows_per_page_are_25_50_or_100(acme, alice, client_for) -> None:
    expected = sixty(acme)
    client = client_for(alice)
    # when choosing 100 rows per page, then all sixty show on one page, marked as the current size
    hundred = client.get(list_url(), {"per_page": "100"})
    assert names(hundred) == expected
    assert span(hundred) == "1–60 of 60"
    assert link_of(hundred, "next-page") is None
    assert [(choice.size, choice.is_current) for choice in hundred.context["paging"].page_sizes] == [
        (25, False),
        (50, False),
        (100, True),
    ]
    assert 'aria-current="true">100</a>' in hundred.content.decode()
    # and the default is fifty, its link without the parameter
    default = client.get(list_url())
    assert len(names(default)) == 50
    assert [choice.url for choice in default.context["paging"].page_sizes] == [
        f"{list_url()}?per_page=25",
        list_url(),
        f"{list_url()}?per_page=100",
    ]


@pytest.mark.parametrize("size", ["10", "200", "abc", "25.0"])
def test_other_page_sizes_are_refused_with_the_choices(acme, alice, client_for, size) -> None:
    sixty(acme)
    response = client_for(alice).get(list_url(), {"per_page": size})
    assert response.status_code == 400
    assert "Choose 25, 50 or 100 rows per page." in response.content.decode()
    assert "rows" not in response.context or response.context["rows"] == []


def test_the_page_size_stays_with_the_walk_and_the_filters(acme, alice, client_for, make_customer) -> None:
    # given thirty customers named Budi and the list searched for them, 25 per page
    for index in range(30):
        make_customer(acme, f"Budi {index:02d}")
    first = client_for(alice).get(list_url(), {"q": "budi", "per_page": "25", "sort": "name"})
    # then the next page keeps search, sort and size; the filter form carries the size
    link = link_of(first, "next-page") or ""
    assert link.startswith(f"{list_url()}?q=budi&sort=name&per_page=25&cursor=")
    assert 'name="per_page" id="per-page" value="25" data-default="50"' in first.content.decode()


# --- Column headers --------------------------------------------------------------------------------------------


def test_name_and_last_update_headers_sort_the_list(acme, alice, client_for) -> None:
    expected = sixty(acme)
    client = client_for(alice)
    # given the default list, sorted by last update (newest first)
    default = client.get(list_url())
    body = default.content.decode()
    # then Last update's header says it sorts the list descending; Name's header offers A to Z
    assert re.search(r'<th scope="col" data-column="updated_at" aria-sort="descending">', body)
    assert re.search(r'<th scope="col" data-column="full_name" class="col-name">', body)
    assert link_of(default, "sort-full_name") == f"{list_url()}?sort=name"
    # when Name's header is clicked, then twice
    by_name = client.get(link_of(default, "sort-full_name") or "")
    reversed_name = client.get(link_of(by_name, "sort-full_name") or "")
    # then the list is A to Z, then Z to A, and the headers say so
    assert names(by_name) == sorted(expected)[:50]
    assert 'data-column="full_name" class="col-name" aria-sort="ascending"' in by_name.content.decode()
    assert names(reversed_name) == sorted(expected, reverse=True)[:50]
    assert 'data-column="full_name" class="col-name" aria-sort="descending"' in reversed_name.content.decode()
    assert link_of(reversed_name, "sort-updated_at") == list_url()


def test_the_headers_keep_filters_and_size_and_start_from_the_first_page(acme, alice, client_for) -> None:
    sixty(acme)
    client = client_for(alice)
    first = client.get(list_url(), {"q": "customer", "per_page": "25"})
    second = client.get(link_of(first, "next-page") or "")
    assert link_of(second, "sort-full_name") == f"{list_url()}?q=customer&sort=name&per_page=25"


def test_the_deleted_view_has_one_order_and_no_sorting_headers(acme, alice, client_for) -> None:
    sixty(acme)
    Customer.objects.for_workspace(acme).filter(full_name="Customer 00").update(deleted_at=NOW)
    body = client_for(alice).get(list_url(), {"deleted": "1"}).content.decode()
    assert "sort-link" not in body
    assert "aria-sort" not in body


# --- Clear filters -------------------------------------------------------------------------------------------


def test_clear_filters_keeps_the_view_sort_and_size(acme, alice, client_for) -> None:
    sixty(acme)
    client = client_for(alice)
    # given a filtered list
    filtered = client.get(
        list_url(),
        {"q": "customer 0", "source": "whatsapp", "date": "last7", "sort": "-name", "per_page": "25"},
    )
    # when its "Clear filters" link is followed
    link = link_of(filtered, "clear-filters")
    cleared = client.get(link or "")
    # then the filters are gone, the sort and size stay, and there is nothing more to clear
    assert link == f"{list_url()}?sort=-name&per_page=25"
    assert span(cleared) == "1–25 of 60"
    assert link_of(cleared, "clear-filters") is None


def test_no_match_offers_to_clear_the_filters(acme, alice, client_for) -> None:
    sixty(acme)
    response = client_for(alice).get(list_url(), {"q": "nobody here"})
    body = response.content.decode()
    assert "No customers match these filters." in body
    assert f'<a href="{list_url()}">Clear filters</a>' in body
    assert span(response) == ""


def test_the_outsider_cannot_see_or_clear_acmes_list(acme, charlie, client_for) -> None:
    sixty(acme)
    client = client_for(charlie)
    assert client.get(list_url(), {"q": "customer", "per_page": "25"}).status_code == 404
    assert client.get(list_url(), {"sort": "name"}).status_code == 404


def test_the_list_is_not_changed_by_paging(acme, alice, client_for) -> None:
    # paging and sorting only read: the customers are the same before and after
    sixty(acme)
    before = list(
        Customer.objects.for_workspace(acme).order_by("pk").values_list("pk", "updated_at", "full_name")
    )
    client = client_for(alice)
    client.get(link_of(client.get(list_url(), {"per_page": "25"}), "next-page") or "")
    after = list(
        Customer.objects.for_workspace(acme).order_by("pk").values_list("pk", "updated_at", "full_name")
    )
    assert after == before
