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
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from relasi.accounts.models import User
from relasi.billing.models import Invoice
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import invoice_method_choose
from relasi.customers import imports
from relasi.customers.bulk.models_bulk import BulkAction, BulkJob, BulkStatus
from relasi.customers.models import Customer, CustomerExport, CustomerView, PropertyDefinition
from relasi.customers.selectors import customer_available_columns
from relasi.partners.models import Program
from relasi.tenancy.models import Membership, Workspace
from tests.browser import front_doors
from tests.browser.front_doors import backoffice_pages, site_pages
from tests.customers.importing import started

NARROW = {"width": 360, "height": 800}
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 800}
LANGUAGES = ["en", "id"]
LONG_EMAIL = "bernadetta.kusumawardhani.setiawan.putri@perusahaan-keluarga-nusantara.co.id"
LONG_NAME = "Raden Ajeng Bernadetta Kusumawardhani Setiawan Putri Nusantara"

# The workspace app's menu, in the order it shows, per language.
APP_MENU = {
    "en": [
        "All customers", "Properties", "Conversations", "Campaigns", "Companies", "Tickets", "Deals", "Tasks",
        "Package usage", "Subscription", "Members", "API keys", "Channels",
    ],
    "id": [
        "Semua pelanggan", "Properti", "Percakapan", "Kampanye", "Perusahaan", "Tiket", "Deal", "Tugas",
        "Pemakaian paket", "Langganan", "Anggota", "Kunci API", "Saluran",
    ],
}  # fmt: skip
PARTNER_MENU = {
    "en": ["Dashboard", "Program", "Commission", "Profile"],
    "id": ["Dasbor", "Program", "Komisi", "Profil"],
}

CSV = b"Nama,No HP,Email\nBudi Santoso,0812-0000-0001,budi@contoh.id\nSiti Aminah,0812-0000-0002,siti@contoh.id\n"

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
    """The menu's links are hidden until its toggle is pressed, then each visible (scrolled to) and clickable."""
    expect(links.first).to_be_hidden()
    page.get_by_test_id(toggle).click()
    if names is not None:
        expect(links).to_have_text(names)
    for index in range(links.count()):
        link = links.nth(index)
        # A long menu (the back-office's sections) runs below the fold of a phone: the page scrolls to it.
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
        # A trial click checks that the link itself would receive the click (nothing covers it), without leaving.
        link.click(trial=True)


def demo_workspace() -> Workspace:
    return Workspace.objects.get(slug="demo")


def add_customer(workspace: Workspace, **fields: Any) -> Customer:
    return Customer.objects.for_workspace(workspace).create(
        full_name=fields.pop("full_name", LONG_NAME), updated_at=timezone.now(), **fields
    )


def page_values(workspace: Workspace, owner: User) -> dict[str, list[str]]:
    """A value for each URL parameter of the front doors: the pages that show one thing show a real one."""
    customer = add_customer(workspace, email=LONG_EMAIL, phone="+6281234567890")
    add_customer(workspace, full_name="Sri Lestari Wahyuningsih", email=LONG_EMAIL, deleted_at=timezone.now())
    waiting = imports.customer_import_upload(
        workspace=workspace,
        actor=owner,
        file=SimpleUploadedFile("pelanggan.csv", CSV),
        original_name="pelanggan.csv",
    )
    ran = started(workspace, owner, CSV, name="pelanggan.csv")
    export = CustomerExport.objects.for_workspace(workspace).create(created_by=owner)
    definition = PropertyDefinition.objects.for_workspace(workspace).order_by("-is_builtin", "pk").last()
    agent = Membership.objects.for_workspace(workspace).get(user__email="agent@relasi.test")
    jobs = BulkJob.objects.for_workspace(workspace)
    # a bulk delete waiting for its confirmation, and one that ran
    draft = jobs.create(created_by=owner, action=BulkAction.DELETE, customer_ids=[customer.pk], total=1)
    done = jobs.create(
        created_by=owner, action=BulkAction.DELETE, customer_ids=[customer.pk], total=1, processed=1,
        changed_count=1, status=BulkStatus.COMPLETED, confirmed_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    # billing: a draft order (its booking confirmation), the demo's paid and expired invoices, and one awaiting
    # payment by card, whose sandbox page is a page too
    draft_order = top_up_order_create(
        workspace=workspace, actor=owner, muv_visitors=500, whatsapp_amount=250_000, billing_email=LONG_EMAIL
    )
    awaiting_order = top_up_order_create(
        workspace=workspace, actor=owner, muv_visitors=1_500, whatsapp_amount=0, billing_email=LONG_EMAIL
    )
    awaiting = top_up_order_confirm(workspace=workspace, actor=owner, order_id=awaiting_order.pk)
    awaiting = invoice_method_choose(workspace=workspace, actor=owner, invoice_id=awaiting.pk, method="card")
    invoices = [str(pk) for pk in Invoice.objects.for_workspace(workspace).values_list("pk", flat=True)]
    return {
        "order_id": [str(draft_order.pk)],
        "step": ["2", "3", "4"],
        "code": ["RPDEMO01"],
        "program_id": [str(pk) for pk in Program.objects.values_list("pk", flat=True)],
        "invoice_id": invoices,
        "workspace_slug": [workspace.slug],
        "customer_id": [str(customer.pk)],
        "import_id": [str(waiting.pk), str(ran.pk)],
        "export_id": [str(export.pk)],
        "property_id": [str(definition.pk)] if definition else [],
        "membership_id": [str(agent.pk)],
        "job_id": [str(draft.pk), str(done.pk)],
        "api_key_id": ["1"],
        "uidb64": [urlsafe_base64_encode(force_bytes(owner.pk))],
        "token": [
            default_token_generator.make_token(owner),
            awaiting.payment_url.rstrip("/").rsplit("/", 1)[1],
        ],
    }


def door_menu(page: Page, path: str, language: str) -> tuple[Any, list[str] | None]:
    """The links of the menu a page of this door has, and their names when they are fixed."""
    if path.startswith("/partners/"):
        return page.get_by_test_id("partner-nav").get_by_role("link"), PARTNER_MENU[language]
    if path.startswith("/backoffice/"):
        return page.get_by_test_id("backoffice-nav").get_by_role("link"), None
    return page.get_by_test_id("app-menu").locator("nav a"), APP_MENU[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_a_phone_and_its_menu_opens(open_tab: OpenTab, demo_data, language: str) -> None:
    # given the demo data with a long-named customer, a deleted one, imports, an export, and every page of the
    # three doors as the URL patterns and the back-office's model list give them
    workspace = demo_workspace()
    owner = User.objects.get(email="owner@relasi.test")
    pages = site_pages(page_values(workspace, owner)) + backoffice_pages()
    pages.append(front_doors.Page(f"/app/{workspace.slug}/customers/?deleted=1", owner.email, True))
    found = {page.path for page in pages}
    # (a check of the finder itself: the pages everyone knows are among those found)
    app = f"/app/{workspace.slug}"
    for known in (
        "/accounts/login/", "/accounts/password/reset/", "/accounts/password/change/",
        f"{app}/customers/", f"{app}/customers/new/", f"{app}/customers/properties/", f"{app}/customers/imports/",
        f"{app}/usage/", f"{app}/usage/top-up/", f"{app}/settings/members/", f"{app}/settings/api-keys/", "/partners/login/", "/partners/",
        "/partners/profile/", "/backoffice/", "/backoffice/accounts/user/", "/backoffice/login/",
    ):  # fmt: skip
        assert known in found, f"{known} is not among the pages found: {sorted(found)}"
    assert any(re.fullmatch(rf"{app}/customers/imports/\d+/", path) for path in found), "no mapping step"
    assert any(re.fullmatch(rf"{app}/customers/imports/\d+/progress/", path) for path in found), "no progress"
    tabs: dict[str | None, Page] = {}

    for page in pages:
        tab = tabs.get(page.user) or tabs.setdefault(
            page.user, open_tab(viewport=NARROW, language=language, email=page.user)
        )
        # when the page opens on a 360 px and then a 390 px screen
        tab.set_viewport_size(NARROW)
        tab.goto(page.path)
        # then nothing but a table's own box scrolls sideways
        assert_no_sideways_scroll(tab, f"{page.path} at 360 px")
        tab.set_viewport_size(PHONE)
        assert_no_sideways_scroll(tab, page.path)
        # and a door's page has a menu that opens from its toggle, every link in view and clickable
        if page.has_menu or (page.path.startswith("/backoffice/") and page.user):
            links, names = door_menu(tab, page.path, language)
            assert_menu_opens(tab, toggle="nav-toggle", links=links, names=names)

    # when a link of an opened menu is followed, its page opens
    owner_tab = tabs[owner.email]
    owner_tab.goto(f"{app}/customers/")
    links, _ = door_menu(owner_tab, app, language)
    assert_menu_opens(owner_tab, toggle="nav-toggle", links=links, names=APP_MENU[language])
    links.filter(has_text=APP_MENU[language][1]).click()
    expect(owner_tab).to_have_url(re.compile(rf"{app}/customers/properties/$"))
    partner_tab = tabs["partner@relasi.test"]
    partner_tab.goto("/partners/")
    links, _ = door_menu(partner_tab, "/partners/", language)
    assert_menu_opens(partner_tab, toggle="nav-toggle", links=links, names=PARTNER_MENU[language])
    expect(partner_tab.get_by_test_id("partner-menu-account").get_by_role("button")).to_be_in_viewport()
    links.filter(has_text=PARTNER_MENU[language][3]).click()
    expect(partner_tab.get_by_test_id("partner-code")).to_have_text("RPDEMO01")
    staff_tab = tabs[front_doors.STAFF]
    staff_tab.goto("/backoffice/")
    links, _ = door_menu(staff_tab, "/backoffice/", language)
    assert_menu_opens(staff_tab, toggle="nav-toggle", links=links, names=None)
    links.first.click()
    expect(staff_tab).to_have_url(re.compile(r"/backoffice/\w+/\w+/$"))


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


# Whether a select shows the whole of each of its options: the text's width in the select's font against the room
# inside it (the padding on the right holds the arrow).
SELECT_SHOWS_EVERY_OPTION = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return Array.from(select.options).filter(option => context.measureText(option.text).width > room + 1)
    .map(option => option.text);
}"""


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_filters_show_their_whole_text(
    open_tab: OpenTab, demo_data, language: str, viewport: dict[str, int]
) -> None:
    # given the owner on All customers
    owner = open_tab(viewport=viewport, language=language, email="owner@relasi.test")
    owner.goto("/app/demo/customers/")

    # then the sort and date selects show every option whole ("Last update, newest first" and its Indonesian)
    for select in ("#sort", "#date-mode"):
        assert owner.locator(select).evaluate(SELECT_SHOWS_EVERY_OPTION) == [], select
    expected = {"en": "Last update, newest first", "id": "Pembaruan terakhir, terbaru dahulu"}[language]
    expect(owner.locator("#sort option:checked")).to_have_text(expected)
    # (the measure itself sees a cut: the same select squeezed to 8em)
    squeezed = "select => { select.style.width = '8em'; return select; }"
    assert expected in owner.locator("#sort").evaluate(f"s => ({SELECT_SHOWS_EVERY_OPTION})(({squeezed})(s))")
    owner.locator("#sort").evaluate("select => { select.style.width = ''; }")
    # and the channel filter looks like the selects beside it (not greyed as if disabled), and opens
    channel = owner.get_by_test_id("source-filter")
    look = "element => [getComputedStyle(element).color, getComputedStyle(element).opacity]"
    assert channel.evaluate(look) == owner.locator("#sort").evaluate(look)
    channel.click()
    expect(owner.locator("#filters input[name=source]").first).to_be_visible()
