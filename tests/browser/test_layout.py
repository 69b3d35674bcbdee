"""Phone and laptop layouts of the three front doors (issue 9, items 1 and 2), in English and Bahasa Indonesia.

At 390×844 no page scrolls sideways (only tables, in their own box) and each door's menu opens from its toggle;
at 1366×800 the default customers table fits its box, and a wider view keeps the name and the actions in view.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from relasi.accounts.models import User
from relasi.customers.models import Customer, CustomerView
from relasi.customers.selectors import customer_available_columns
from relasi.tenancy.models import Workspace

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 800}
LANGUAGES = ["en", "id"]
LONG_EMAIL = "bernadetta.kusumawardhani.setiawan.putri@perusahaan-keluarga-nusantara.co.id"
LONG_NAME = "Raden Ajeng Bernadetta Kusumawardhani Setiawan Putri Nusantara"

# The workspace app's menu, in the order it shows, per language.
APP_MENU = {
    "en": ["All customers", "Properties", "Package usage", "Subscription", "Members", "API keys"],
    "id": ["Semua pelanggan", "Properti", "Pemakaian paket", "Langganan", "Anggota", "Kunci API"],
}
PARTNER_MENU = {
    "en": ["Dashboard", "Program", "Commission", "Profile"],
    "id": ["Dasbor", "Program", "Komisi", "Profil"],
}

OpenTab = Callable[..., Page]


@pytest.fixture
def open_tab(browser, live_server) -> Iterator[OpenTab]:
    """A new tab of the given size and language, signed in as the given demo user (or not at all)."""
    contexts: list[Any] = []

    def open_(*, viewport: dict[str, int], language: str, email: str | None = None) -> Page:
        # Reduced motion: Bootstrap then opens menus without their slide, so nothing waits for an animation.
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, locale="en-US", reduced_motion="reduce"
        )
        context.set_default_timeout(10_000)
        cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        if email is not None:
            client = Client()
            client.force_login(User.objects.get(email=email))
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url})
        context.add_cookies(cookies)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def assert_no_sideways_scroll(page: Page, path: str) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{path} is {widths[0]} px wide in a {widths[1]} px screen"


def assert_menu_opens(page: Page, *, toggle: str, links: Any, names: list[str] | None) -> None:
    """The menu's links are hidden until its toggle is pressed, then visible and clickable."""
    expect(links.first).to_be_hidden()
    page.get_by_test_id(toggle).click()
    if names is not None:
        expect(links).to_have_text(names)
    for index in range(links.count()):
        link = links.nth(index)
        expect(link).to_be_in_viewport()
        # A trial click checks that the link itself would receive the click (nothing covers it), without leaving.
        link.click(trial=True)


def demo_workspace() -> Workspace:
    return Workspace.objects.get(slug="demo")


def add_customer(workspace: Workspace, **fields: Any) -> Customer:
    return Customer.objects.for_workspace(workspace).create(
        full_name=fields.pop("full_name", LONG_NAME), updated_at=timezone.now(), **fields
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_a_phone_and_its_menu_opens(open_tab: OpenTab, demo_data, language: str) -> None:
    # given the demo data, a deleted customer, and one with a long name and email
    workspace = demo_workspace()
    customer = add_customer(workspace, email=LONG_EMAIL, phone="+6281234567890")
    add_customer(workspace, full_name="Sri Lestari Wahyuningsih", email=LONG_EMAIL, deleted_at=timezone.now())
    app = "/app/demo"
    public = open_tab(viewport=PHONE, language=language)
    owner = open_tab(viewport=PHONE, language=language, email="owner@relasi.test")
    partner = open_tab(viewport=PHONE, language=language, email="partner@relasi.test")
    staff = open_tab(viewport=PHONE, language=language, email="staff@relasi.test")

    # public pages: sign-in of each door and the password reset
    for path in ("/accounts/login/", "/accounts/password/reset/", "/partners/login/", "/backoffice/login/"):
        public.goto(path)
        assert_no_sideways_scroll(public, path)

    # the workspace app: every page, and its menu from each
    owner.goto("/app/")
    assert_no_sideways_scroll(owner, "/app/")
    app_pages = [
        "/customers/", "/customers/?deleted=1", "/customers/new/", f"/customers/{customer.pk}/",
        "/customers/properties/", "/customers/properties/new/", "/customers/imports/", "/usage/",
        "/settings/subscription/", "/settings/members/", "/settings/api-keys/",
    ]  # fmt: skip
    app_menu = owner.get_by_test_id("app-menu").locator("nav a")
    for path in app_pages:
        owner.goto(app + path)
        assert_no_sideways_scroll(owner, path)
        assert_menu_opens(owner, toggle="nav-toggle", links=app_menu, names=APP_MENU[language])
    # when a link of the opened menu is followed, its page opens
    app_menu.filter(has_text=APP_MENU[language][1]).click()
    expect(owner).to_have_url(f"{owner.url.split('/app/')[0]}{app}/customers/properties/")

    # the partner portal
    partner_menu = partner.get_by_test_id("partner-nav").get_by_role("link")
    for path in ("/partners/", "/partners/programs/", "/partners/commission/", "/partners/profile/"):
        partner.goto(path)
        assert_no_sideways_scroll(partner, path)
        assert_menu_opens(partner, toggle="nav-toggle", links=partner_menu, names=PARTNER_MENU[language])
        expect(partner.get_by_test_id("partner-menu-account").get_by_role("button")).to_be_in_viewport()
    partner_menu.filter(has_text=PARTNER_MENU[language][3]).click()
    expect(partner.get_by_test_id("partner-code")).to_have_text("RPDEMO01")

    # the back-office: index, a list and a form
    owner_id = User.objects.get(email="owner@relasi.test").pk
    office_menu = staff.get_by_test_id("backoffice-nav").get_by_role("link")
    for path in (
        "/backoffice/",
        "/backoffice/accounts/user/",
        f"/backoffice/accounts/user/{owner_id}/change/",
    ):
        staff.goto(path)
        assert_no_sideways_scroll(staff, path)
        assert_menu_opens(staff, toggle="nav-toggle", links=office_menu, names=None)
    office_menu.first.click()
    expect(staff).to_have_url(re.compile(r"/backoffice/\w+/\w+/$"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_api_key_fits_a_phone_and_copies(open_tab: OpenTab, demo_data, language: str) -> None:
    # given the owner on a phone, allowed to use the clipboard
    owner = open_tab(viewport=PHONE, language=language, email="owner@relasi.test")
    owner.context.grant_permissions(["clipboard-read", "clipboard-write"])
    owner.goto("/app/demo/settings/api-keys/")
    # when they create a key
    owner.locator('input[name="name"]').fill("Website form")
    owner.locator('input[name="name"]').press("Enter")
    token = owner.locator("#issued-token-value")
    expect(token).to_contain_text("rls_")
    # then the page, with its 56-character key, still fits the phone
    assert_no_sideways_scroll(owner, "/settings/api-keys/ with a new key")
    # and the copy button puts the key on the clipboard and says so
    owner.get_by_test_id("copy-token").click()
    status = owner.get_by_test_id("copy-status")
    expect(status).not_to_be_empty()
    if language == "en":
        expect(status).to_have_text("Copied")
    assert owner.evaluate("navigator.clipboard.readText()") == token.inner_text().strip()


# A cut cell hides part of its text: sideways (one line ending in an ellipsis) or below its last shown line (a clamp).
IS_CUT = "cell => cell.scrollWidth > cell.clientWidth || cell.scrollHeight > cell.clientHeight"


def table_box_fits(page: Page) -> None:
    box = page.get_by_test_id("customer-table-box")
    widths = box.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert widths[0] <= widths[1], f"the table is {widths[0]} px in a {widths[1]} px box"
    actions = page.locator("#customer-table tbody tr").first.get_by_role("button").last
    expect(actions).to_be_in_viewport(ratio=1)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_customers_table_fits_a_laptop(open_tab: OpenTab, demo_data, language: str) -> None:
    # given a customer with a long name and email, newest first, and deleted customers, one with a long email
    workspace = demo_workspace()
    add_customer(workspace, email=LONG_EMAIL, phone="+6281234567890", source="whatsapp")
    add_customer(workspace, full_name="Sri Lestari", email=LONG_EMAIL, deleted_at=timezone.now())
    add_customer(
        workspace, full_name="Bambang Sutrisno", email="bambang@contoh.id", deleted_at=timezone.now()
    )
    owner = open_tab(viewport=LAPTOP, language=language, email="owner@relasi.test")

    # when the owner opens All customers with the default columns
    owner.goto("/app/demo/customers/")

    # then the table fits its box with the actions in view
    table_box_fits(owner)
    # and the long email and name are cut with an ellipsis, their full text in the title
    first_row = owner.locator("#customer-table tbody tr").first
    email = first_row.locator("span.cell", has_text="bernadetta")
    expect(email).to_have_attribute("title", LONG_EMAIL)
    assert email.evaluate(IS_CUT), "the long email is not cut"
    name = first_row.get_by_role("link", name=LONG_NAME)
    expect(name).to_have_attribute("title", LONG_NAME)
    assert name.evaluate(IS_CUT), "the long name is not cut"

    # and the Deleted view, with its extra column, fits too
    owner.goto("/app/demo/customers/?deleted=1")
    expect(owner.locator("#customer-table tbody tr")).to_have_count(2)
    table_box_fits(owner)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wide_view_scrolls_in_its_box_keeping_name_and_actions(
    open_tab: OpenTab, demo_data, language: str
) -> None:
    # given the owner's view showing every column there is
    workspace = demo_workspace()
    owner_user = User.objects.get(email="owner@relasi.test")
    every_column = [column.key for column in customer_available_columns(workspace=workspace)][1:]
    CustomerView.objects.for_workspace(workspace).update_or_create(
        user=owner_user, defaults={"columns": every_column}
    )
    owner = open_tab(viewport=LAPTOP, language=language, email="owner@relasi.test")
    owner.goto("/app/demo/customers/")
    box = owner.get_by_test_id("customer-table-box")
    assert box.evaluate("box => box.scrollWidth > box.clientWidth + 200"), (
        "the view is not wider than its box"
    )
    assert_no_sideways_scroll(owner, "/customers/ with every column")

    # when the table's box is scrolled to its right end
    box.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    owner.wait_for_function(
        "() => document.querySelector('[data-testid=customer-table-box]').hasAttribute('data-scrolled-left')"
    )

    # then the first row's name and actions are still inside the box, and a middle column is not
    row = owner.locator("#customer-table tbody tr").first
    inside = (
        "(cell) => { const box = cell.closest('.table-scroll').getBoundingClientRect();"
        " const r = cell.getBoundingClientRect(); return r.left >= box.left - 1 && r.right <= box.right + 1; }"
    )
    assert row.locator("td.col-name").evaluate(inside)
    assert row.locator("td.col-actions").evaluate(inside)
    assert not row.locator("td").nth(3).evaluate(inside)
    # and the row's menu opens above the rows below it, with its items clickable
    row.locator("td.col-actions").get_by_role("button").click()
    row.locator("td.col-actions .dropdown-menu a").click(trial=True)
