"""Self top-up in Chromium (issue 11): ask for WhatsApp below the minimum and see it raised, confirm, pay by card
on the sandbox gateway's page (see the fee), land on Paid, see the balance, and download the proforma PDF."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from relasi.billing.models import BalanceKind, Invoice, InvoiceStatus
from relasi.billing.selectors import balances_of
from relasi.tenancy.models import Workspace
from tests.browser.conftest import sign_in


@pytest.fixture
def site_url(settings, live_server) -> None:
    # The sandbox's page sends its callback to RELASI_SITE_URL, as a gateway calls the address it was given.
    settings.RELASI_SITE_URL = live_server.url


def test_top_up_whatsapp_by_card_through_the_sandbox(page, demo_data, site_url) -> None:
    # given the demo workspace, whose WhatsApp balance is below 40%
    workspace = Workspace.objects.get(slug="demo")
    before = balances_of(workspace=workspace)[BalanceKind.WHATSAPP].amount
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    page.goto("/app/demo/usage/")

    # when the owner tops up IDR 250.000 of WhatsApp
    page.get_by_test_id("top-up").click()
    page.get_by_label("WhatsApp balance (rupiah)").fill("250.000")
    # then the form says it will be raised to the minimum before anything is sent
    expect(page.get_by_text("Below the minimum: the WhatsApp top-up will be Rp 1,000,000.")).to_be_visible()
    page.get_by_test_id("continue-to-payment").click()

    # then the booking confirmation shows the raise, VAT and the total
    expect(page.get_by_test_id("minimum-raised")).to_contain_text("raised to the minimum of Rp 1,000,000")
    expect(page.get_by_test_id("vat")).to_have_text("Rp 110,000")
    expect(page.get_by_test_id("total")).to_have_text("Rp 1,110,000")
    page.get_by_test_id("confirm-payment").click()

    # when the owner chooses a credit card on the invoice, which counts down to its deadline
    expect(page.get_by_test_id("invoice-status")).to_have_text("Awaiting payment")
    expect(page.get_by_test_id("countdown")).to_contain_text("left to pay")
    page.get_by_label(re.compile("^Credit card")).check()
    expect(page.get_by_text("(+3.5%: Rp 38,850)")).to_be_visible()
    page.get_by_test_id("pay").click()

    # then the sandbox gateway's page asks for the total with the fee, and pays it
    expect(page.get_by_test_id("sandbox-amount")).to_have_text("Rp 1,148,850")
    page.get_by_test_id("sandbox-pay").click()
    expect(page.get_by_test_id("sandbox-sent")).to_contain_text("Relasi answered 200")
    page.get_by_test_id("sandbox-return").click()

    # then the invoice is paid, with its fee line
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    expect(page.get_by_test_id("card-fee")).to_have_text("Rp 38,850")
    expect(page.get_by_test_id("total")).to_have_text("Rp 1,148,850")
    invoice = Invoice.objects.for_workspace(workspace).get(status=InvoiceStatus.PAID, amount=1_110_000)
    assert invoice.paid_amount == 1_148_850

    # and the proforma PDF has the total
    with page.expect_download() as download:
        page.get_by_test_id("download-invoice").click()
    text = "".join(
        sheet.extract_text() for sheet in PdfReader(io.BytesIO(download.value.path().read_bytes())).pages
    )
    assert invoice.number in text and "Rp 1,148,850" in text and "not a tax invoice" in text

    # and the WhatsApp balance grew by the million
    assert balances_of(workspace=workspace)[BalanceKind.WHATSAPP].amount == before + 1_000_000
    page.goto("/app/demo/settings/subscription/")
    expect(page.get_by_test_id("invoices")).to_contain_text(invoice.number)
