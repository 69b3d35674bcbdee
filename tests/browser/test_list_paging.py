"""The All customers list in a browser (issue 9 item 7): rows per page, Next and Previous, a sorting column header,
and the filter form that keeps the table's sort and size."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_rows_per_page_next_previous_and_a_header_sort(page, demo_data) -> None:
    # given the owner on the list of the 40 demo customers and the WhatsApp contact of the demo's possible duplicate
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    span = page.get_by_test_id("page-span")
    expect(span).to_have_text("1–41 of 41")
    # when choosing 25 rows per page, then walking to the next page and back
    page.get_by_test_id("page-sizes").get_by_role("link", name="25").click()
    expect(page).to_have_url(re.compile(r"per_page=25"))
    expect(span).to_have_text("1–25 of 41")
    page.get_by_test_id("next-page").click()
    expect(span).to_have_text("26–41 of 41")
    expect(page.get_by_test_id("next-page")).to_have_count(0)
    page.get_by_test_id("previous-page").click()
    expect(span).to_have_text("1–25 of 41")
    expect(page.get_by_test_id("previous-page")).to_have_count(0)
    # when the Name header is clicked
    page.get_by_test_id("sort-full_name").click()
    # then the list is sorted A to Z, the header says so, and the Sort by select follows
    expect(page.locator('th[data-column="full_name"]')).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_label("Sort by")).to_have_value("name")
    names = page.locator("#customer-table td.col-name").all_inner_texts()
    assert names == sorted(names)
    # and a search afterwards keeps the sort and the 25 rows per page
    page.get_by_label("Search").fill("a")
    expect(page).to_have_url(re.compile(r"q=a"))
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(page).to_have_url(re.compile(r"per_page=25"))
    expect(page.get_by_test_id("clear-filters")).to_be_visible()
    # when "Clear filters" is followed, the search is gone, sort and size stay
    page.get_by_test_id("clear-filters").click()
    expect(page.get_by_label("Search")).to_have_value("")
    expect(page).to_have_url(re.compile(r"sort=name&per_page=25$"))
    expect(span).to_have_text("1–25 of 41")
