"""The import's mapping step on a phone and a laptop (issue 9 review), in English and Bahasa Indonesia.

At 390×844 each column of the file is a card: its name and examples, then its select at full width, then its help;
nothing scrolls sideways. At 1366×800 the mapping stays a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import Page, expect

from relasi.accounts.models import User
from relasi.customers import imports
from relasi.tenancy.models import Workspace

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 800}
# A Google Contacts export of seven columns; a phone cell with two numbers (" ::: ") brings the help under it.
GOOGLE_CSV = (
    b"First Name,Middle Name,Last Name,Phone 1 - Value,Organization Name,Organization Title,Address 1 - City\n"
    b"Budi,Setiawan,Santoso,+62 812-0000-0001 ::: +62 812-0000-0009,Toko Sumber Rejeki,Pemilik,Surabaya\n"
    b"Siti,,Aminah,+62 812-0000-0002,Warung Bu Siti,Pengelola,Kabupaten Sidoarjo\n"
)
# The heading of the mapping step, per language, to know the page is the one asked for.
MAP_COLUMNS = {"en": "Map columns", "id": "Petakan kolom"}

OpenTab = Callable[..., Page]


@pytest.fixture
def open_tab(browser, live_server) -> Iterator[OpenTab]:
    """A new tab of the given size and language, signed in as the demo workspace's owner."""
    contexts: list[Any] = []

    def open_(*, viewport: dict[str, int], language: str) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-US")
        context.set_default_timeout(10_000)
        client = Client()
        client.force_login(User.objects.get(email="owner@relasi.test"))
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [
                {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
                {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def mapping_path() -> str:
    """The mapping step of the Google Contacts file, uploaded by the demo workspace's owner."""
    workspace = Workspace.objects.get(slug="demo")
    customer_import = imports.customer_import_upload(
        workspace=workspace,
        actor=User.objects.get(email="owner@relasi.test"),
        file=SimpleUploadedFile("google.csv", GOOGLE_CSV),
        original_name="google.csv",
    )
    return f"/app/{workspace.slug}/customers/imports/{customer_import.pk}/"


def select_widths(page: Page) -> dict[str, int]:
    return page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-testid=import-mapping-form] select')]"
        ".map(select => [select.id, Math.round(select.getBoundingClientRect().width)]))"
    )


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_mapping_step_reads_on_a_phone_without_scrolling_sideways(
    open_tab: OpenTab, demo_data, language: str
) -> None:
    # given the owner on a phone, at the mapping step of a seven-column Google Contacts export
    path = mapping_path()
    page = open_tab(viewport=PHONE, language=language)
    # when the page opens
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(MAP_COLUMNS[language])
    # then each column is a card: its select, and the help under the phone column, take the card's width
    rows = page.get_by_test_id("import-mapping").locator("tbody tr")
    expect(rows).to_have_count(7)
    widths = select_widths(page)
    assert sorted(widths) == sorted(
        [f"id_column_{index}" for index in range(7)] + ["id_rest_3", "id_number_format"]
    )
    assert min(widths.values()) >= 200, widths
    help_box = page.locator("label[for=id_rest_3]").bounding_box()
    assert help_box is not None and help_box["width"] >= 200, help_box
    # the suggested field reads whole: the select is as wide as its card, not a sliver of a table
    first_select = page.locator("#id_column_0").bounding_box()
    first_card = rows.first.bounding_box()
    assert first_select is not None and first_card is not None
    assert first_select["width"] >= first_card["width"] - 40
    # and nothing scrolls sideways
    scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= 390, f"{path} is {scroll[0]} px wide in a {scroll[1]} px screen"


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_mapping_step_stays_a_table_on_a_laptop(open_tab: OpenTab, demo_data, language: str) -> None:
    # given the owner on a laptop, at the mapping step of the same export
    path = mapping_path()
    page = open_tab(viewport=LAPTOP, language=language)
    # when the page opens
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(MAP_COLUMNS[language])
    # then the mapping is a table with its header row, each column of the file a row of three cells side by side
    table = page.get_by_test_id("import-mapping")
    expect(table.locator("thead")).to_be_visible()
    assert table.evaluate("table => getComputedStyle(table).display") == "table"
    row = table.locator("tbody tr").first
    assert row.evaluate("row => getComputedStyle(row).display") == "table-row"
    cells = [row.locator("td").nth(index).bounding_box() for index in range(3)]
    assert all(cell is not None for cell in cells)
    assert len({round(cell["y"]) for cell in cells if cell}) == 1
    assert min(select_widths(page).values()) >= 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
