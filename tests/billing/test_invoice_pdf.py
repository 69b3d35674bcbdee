"""The proforma invoice PDF: what it says, as the pages format it, in either language, for any workspace name,
and the same bytes for the same invoice."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation
from pypdf import PdfReader

from relasi.billing import pdf as pdf_module
from relasi.billing.models import Invoice, TopUpOrder
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.pdf import invoice_pdf
from relasi.billing.pricing import card_fee, invoice_deadline
from relasi.core.templatetags.relasi_format import rupiah

pytestmark = pytest.mark.django_db

# 10:00 in Jakarta; the invoice is payable until 23:59 of the next day there.
MADE = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _seller(settings) -> None:
    settings.BILLING_SELLER_NAME = "PT Relasi Nusantara"
    settings.BILLING_SELLER_ADDRESS = "Jl. Sudirman 1\nJakarta 10220"
    settings.BILLING_SELLER_NPWP = "01.234.567.8-901.000"
    settings.BILLING_SUPPORT_EMAIL = "support@relasi.test"


def _invoice(workspace, actor, **changes) -> Invoice:
    """An invoice of 1,500 visitors and IDR 1,000,000 of WhatsApp, made at MADE, with `changes` saved on it."""
    order = top_up_order_create(
        workspace=workspace,
        actor=actor,
        muv_visitors=1_500,
        whatsapp_amount=1_000_000,
        billing_email="finance@acme.test",
    )
    invoice = top_up_order_confirm(workspace=workspace, actor=actor, order_id=order.pk)
    Invoice.objects.for_workspace(workspace).filter(pk=invoice.pk).update(
        created_at=MADE, due_at=invoice_deadline(created_at=MADE, zone=workspace.zone), **changes
    )
    return Invoice.objects.for_workspace(workspace).get(pk=invoice.pk)


def _render(invoice: Invoice, workspace) -> bytes:
    order = TopUpOrder.objects.for_workspace(workspace).get(pk=invoice.order_id)
    return invoice_pdf(invoice=invoice, order=order, workspace=workspace)


def _text(content: bytes) -> str:
    # Whitespace as one space: where pypdf breaks a wrapped paragraph is the layout's business.
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


NOTE = (
    "This proforma invoice is not a tax invoice. For a tax invoice (Faktur Pajak), send this proforma to support "
    "at support@relasi.test."
)


def test_the_proforma_says_what_the_invoice_is_as_the_pages_format_it(acme, alice) -> None:
    # given an invoice of 1,500 visitors and IDR 1,000,000 of WhatsApp, awaiting payment
    invoice = _invoice(acme, alice)
    # when it is rendered
    content = _render(invoice, acme)
    # then it is a PDF that says who sells to whom, which invoice, until when, and for what
    assert content.startswith(b"%PDF-")
    text = _text(content)
    for expected in (
        "PT Relasi Nusantara Jl. Sudirman 1 Jakarta 10220 NPWP: 01.234.567.8-901.000",
        "PROFORMA INVOICE",
        "Billed to Acme Indonesia",
        "Billing email finance@acme.test",
        f"Invoice number {invoice.number}",
        "Date 1 Dec 2026, 10:00 (Asia/Jakarta)",
        "Pay by 2 Dec 2026, 23:59 (Asia/Jakarta)",
        "Status Awaiting payment",
        "1,500 unique visitors Rp 900,000",
        "WhatsApp balance Rp 1,000,000",
        "Subtotal Rp 1,900,000",
        "VAT 12% of 1,741,667 Rp 209,000",
        "Total Rp 2,109,000",
        NOTE,
    ):
        assert expected in text
    # and the total is what the pages' rupiah filter shows
    assert invoice.amount_due == 2_109_000 and f"Total {rupiah(invoice.amount_due)}" in text
    # and nothing of a payment not made yet
    for absent in ("Card fee", "Payment method", "Paid on"):
        assert absent not in text


def test_a_card_payment_shows_its_fee_and_the_total_with_it(acme, alice) -> None:
    # given the invoice to be paid by card: 3.5% of IDR 2,109,000 on top
    assert card_fee(total=2_109_000) == 73_815
    invoice = _invoice(acme, alice, payment_method="card", card_fee=73_815)
    # when it is rendered
    text = _text(_render(invoice, acme))
    # then the fee is a line of its own and the total is what the card pays
    assert "VAT 12% of 1,741,667 Rp 209,000 Card fee Rp 73,815 Total Rp 2,182,815" in text
    assert "Payment method Credit card" in text


def test_a_paid_invoice_says_how_and_when(acme, alice) -> None:
    # given the invoice paid by BCA's virtual account two hours after it was made
    invoice = _invoice(
        acme,
        alice,
        status="paid",
        payment_method="virtual_account",
        bank="bca",
        paid_at=MADE + timedelta(hours=2),
        paid_amount=2_109_000,
    )
    # when it is rendered
    text = _text(_render(invoice, acme))
    # then
    assert "Status Paid Payment method Virtual account (BCA) Paid on 1 Dec 2026, 12:00 (Asia/Jakarta)" in text
    assert "Card fee" not in text and "Total Rp 2,109,000" in text


def test_the_times_are_the_workspaces_own_with_its_zone_named(acme, alice) -> None:
    # given a workspace in Makassar (UTC+8)
    acme.time_zone = "Asia/Makassar"
    acme.save(update_fields=["time_zone"])
    # when its invoice is rendered
    text = _text(_render(_invoice(acme, alice), acme))
    # then
    assert "Date 1 Dec 2026, 11:00 (Asia/Makassar) Pay by 2 Dec 2026, 23:59 (Asia/Makassar)" in text


def test_the_same_invoice_gives_the_same_bytes_whenever_it_is_rendered(acme, alice) -> None:
    # given an invoice rendered on the day it was made
    invoice = _invoice(acme, alice)
    with time_machine.travel(MADE + timedelta(minutes=5), tick=False):
        first = _render(invoice, acme)
    # when it is rendered again a month later
    with time_machine.travel(MADE + timedelta(days=30), tick=False):
        again = _render(invoice, acme)
    # then the file is the same, to the byte
    assert again == first


def test_without_an_npwp_the_seller_shows_none(acme, alice, settings) -> None:
    settings.BILLING_SELLER_NPWP = ""
    text = _text(_render(_invoice(acme, alice), acme))
    assert "PT Relasi Nusantara Jl. Sudirman 1 Jakarta 10220 PROFORMA INVOICE" in text
    assert "NPWP" not in text


def test_a_name_in_any_script_renders_and_what_the_font_lacks_is_a_question_mark(acme, alice, caplog) -> None:
    # given a workspace named in Latin with a diaeresis, Japanese, an emoji and Cyrillic
    acme.name = "Toko Ümit 日本 🎉 Ёлка"
    acme.save(update_fields=["name"])
    # when its invoice is rendered
    with caplog.at_level(logging.WARNING):
        text = _text(_render(_invoice(acme, alice), acme))
    # then what DejaVu Sans has prints as typed, the rest as "?", and nothing is dropped unsaid
    assert "Billed to Toko Ümit ?? ? Ёлка Billing email" in text
    assert [record.getMessage() for record in caplog.records] == []


def test_in_indonesian_the_proforma_uses_indonesian_words_and_formats(acme, alice) -> None:
    # given the invoice
    invoice = _invoice(acme, alice)
    # when it is rendered in Indonesian
    with translation.override("id"):
        text = _text(_render(invoice, acme))
    # then the lines' words, the dates and the amounts are Indonesian
    for expected in (
        "1 Des 2026, 10.00 (Asia/Jakarta)",
        "1.500 pengunjung unik Rp 900.000",
        "Saldo WhatsApp Rp 1.000.000",
        "Rp 2.109.000",
    ):
        assert expected in text


def test_without_the_font_file_it_falls_back_to_latin_1_with_the_nearest_letters(
    acme, alice, monkeypatch, tmp_path, caplog
) -> None:
    # given a build that left the font out, and a workspace named beyond Latin-1
    monkeypatch.setattr(pdf_module, "FONT_PATH", tmp_path / "missing.ttf")
    acme.name = "Zoë Łódź 日本"
    acme.save(update_fields=["name"])
    # when its invoice is rendered
    text = _text(_render(_invoice(acme, alice), acme))
    # then Latin-1 prints as typed, "ź" as "z", what has no near letter as "?", and the missing font is logged
    assert "Billed to Zoë ?ódz ?? Billing email" in text
    assert "Total Rp 2,109,000" in text
    assert "missing.ttf is missing" in caplog.text
