"""The customer detail page in Chromium (issue 10): open a customer from the list, edit a field in place, associate
an existing ticket through the picker, filter deals, and see each change on the timeline."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from relasi.accounts.models import User
from relasi.customers.services import customer_create
from relasi.interactions.services import record_create
from relasi.tenancy.models import Workspace
from tests.browser.conftest import sign_in

# htmx is done with the last answer: nothing waiting, swapping or settling. New content gets its handlers while it
# settles, so a click on a button swapped in a moment ago could otherwise go unheard.
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


def settled(page) -> None:
    page.wait_for_function(SETTLED)


def test_open_edit_in_place_associate_a_ticket_and_filter_deals(page, demo_data) -> None:
    # given a new customer (first in the list) with two deals, and a ticket of the workspace not yet theirs
    workspace = Workspace.objects.get(slug="demo")
    owner = User.objects.get(email="owner@relasi.test")
    wulan = customer_create(workspace=workspace, actor=owner, data={"full_name": "Wulan Kembang Sari"})
    for name, approval in (("Pesanan grosir", "approved"), ("Pesanan eceran", "waiting")):
        record_create(
            workspace=workspace,
            actor=owner,
            kind="deal",
            data={"name": name, "approval_status": approval},
            customer_ids=[wulan.pk],
        )
    ticket = record_create(
        workspace=workspace, actor=owner, kind="ticket", data={"title": "Refund pesanan rusak"}
    )
    sign_in(page, "/accounts/login/", "owner@relasi.test")

    # when the owner opens View details from the row's Actions
    row = page.locator(f'#customer-table tr[data-customer="{wulan.pk}"]')
    row.get_by_role("button", name="Actions").click()
    row.get_by_test_id("view-details").click()

    # then the customer's page shows the name, the counts and the timeline
    expect(page).to_have_url(re.compile(rf"/app/demo/customers/{wulan.pk}/details/$"))
    page.wait_for_load_state()
    expect(page.get_by_test_id("customer-name")).to_have_text("Wulan Kembang Sari")
    expect(page.get_by_test_id("activity-log")).to_contain_text("Deals")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-line").first).to_contain_text("Deal “Pesanan eceran” created")

    # when a field is edited in place with a wrong value, then fixed
    page.get_by_test_id("card-edit").click()
    card = page.get_by_test_id("customer-card-form")
    expect(card).to_be_visible()
    settled(page)
    card.get_by_label("Email").fill("wulan@")
    card.get_by_test_id("card-save").click()
    expect(page.get_by_test_id("customer-card-form").locator(".invalid-feedback")).to_be_visible()
    settled(page)
    page.get_by_test_id("customer-card-form").get_by_label("Email").fill("wulan@kembang.id")
    page.get_by_test_id("customer-card-form").get_by_test_id("card-save").click()

    # then the card shows it without leaving the page, and the timeline says who changed what
    expect(page.get_by_test_id("customer-card")).to_contain_text("wulan@kembang.id")
    expect(page).to_have_url(re.compile(rf"/customers/{wulan.pk}/details/$"))
    expect(timeline.get_by_test_id("timeline-line").first).to_contain_text("set Email to wulan@kembang.id")

    # when an existing ticket is associated through the Ticket tab's picker
    settled(page)
    page.get_by_test_id("tab-ticket").click()
    expect(page).to_have_url(re.compile(rf"/customers/{wulan.pk}/details/tickets/$"))
    settled(page)
    page.get_by_test_id("associate-toggle").click()
    page.get_by_test_id("picker-search").fill("rusak")
    picker = page.get_by_test_id("record-picker")
    expect(picker).to_contain_text("Refund pesanan rusak")
    settled(page)
    picker.get_by_test_id(f"associate-{ticket.pk}").click()

    # then the tab lists it, the count and the timeline follow
    interactions = page.get_by_test_id("interactions")
    expect(interactions.get_by_test_id("tab-notice")).to_have_text("Associated.")
    expect(interactions.get_by_role("link", name="Refund pesanan rusak")).to_be_visible()
    expect(page.get_by_test_id("count-2")).to_contain_text("1")
    expect(timeline.get_by_test_id("timeline-line").first).to_contain_text(
        "Ticket “Refund pesanan rusak” associated"
    )

    # when the Sales tab is filtered to approved deals
    page.get_by_test_id("tab-deal").click()
    expect(interactions.locator("tbody tr")).to_have_count(2)
    settled(page)
    page.get_by_test_id("tab-filter-toggle").click()
    expect(page.get_by_test_id("filter-panel")).to_be_visible()
    page.get_by_test_id("filter-panel").get_by_label("Approved").check()
    page.get_by_test_id("apply-filters").click()

    # then only the approved deal is listed, and the filter is in the URL: a reload shows the same (as long as an
    # action may take: on a loaded machine the filtered tab can take more than expect's 5 s)
    expect(interactions.locator("tbody tr")).to_have_count(1, timeout=10_000)
    expect(interactions.locator("tbody")).to_contain_text("Pesanan grosir")
    expect(page).to_have_url(re.compile(r"/details/deals/\?approval_status=approved"))
    page.reload()
    expect(page.get_by_test_id("interactions").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("filter-panel").get_by_label("Approved")).to_be_checked()
