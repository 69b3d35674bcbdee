"""The proforma invoice of a top-up as an A4 PDF (fpdf2), in the active language.

A proforma asks for the payment and records it; it is not a tax invoice (Faktur Pajak), which support issues on
request, and it says so. Amounts and dates are formatted as the pages format them (relasi.core.formatting).

The text is set in DejaVu Sans, bundled in fonts/ (Bitstream Vera licence, LICENSE-DejaVu.txt), so that
Indonesian, accented and most non-Latin names print as typed. A character the font has no glyph for (Chinese,
Japanese, most emoji) prints as "?": a name is never a reason for the download to fail. The same invoice gives the same
bytes: the file's dates come from the invoice, never the clock.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fpdf import FPDF, XPos, YPos
from fpdf.enums import TextMode
from fpdf.fonts import TTFFont

from relasi.billing.models import BalanceKind, Invoice, PaymentMethod, TopUpOrder
from relasi.billing.selectors import invoice_of, order_of
from relasi.core.formatting import format_money, format_number
from relasi.tenancy.models import Workspace

logger = logging.getLogger(__name__)

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
FONT_FAMILY = "dejavusans"
# Lengths in millimetres (fpdf2's default unit), font sizes in points, the grey of small print from 0 (black).
MARGIN = 20
LINE = 6
LABEL_WIDTH = 45
AMOUNT_WIDTH = 50
TEXT_SIZE = 10
NOTE_SIZE = 9
GREY = 90


def invoice_pdf(*, invoice: Invoice, order: TopUpOrder, workspace: Workspace) -> bytes:
    """The invoice of `order` as a proforma PDF for `workspace`, its times in the workspace's zone."""
    pdf = _document(invoice)
    _seller(pdf)
    _title(pdf)
    _buyer(pdf, order=order, workspace=workspace)
    _details(pdf, invoice=invoice, zone=workspace.zone)
    _lines(pdf, order=order)
    _totals(pdf, invoice=invoice, order=order)
    _note(pdf)
    return bytes(pdf.output())


@dataclass(frozen=True)
class InvoiceFile:
    filename: str
    content: bytes

    def as_download(self) -> HttpResponse:
        response = HttpResponse(self.content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return response


def invoice_pdf_of(*, workspace: Workspace, invoice_id: int) -> InvoiceFile:
    """The workspace's invoice as its proforma PDF file (another workspace's is a 404), for the page and the API."""
    invoice = invoice_of(workspace=workspace, invoice_id=invoice_id)
    order = order_of(workspace=workspace, order_id=invoice.order_id)
    return InvoiceFile(
        filename=f"{invoice.number.replace('/', '-')}.pdf",
        content=invoice_pdf(invoice=invoice, order=order, workspace=workspace),
    )


class _ProformaPDF(FPDF):
    """An FPDF that makes every text printable in the current font first: fpdf2 would drop a character that the
    font lacks (TTF), or raise on it (a core font)."""

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(_printable(text, self._glyph_in_font))

    def _glyph_in_font(self, codepoint: int) -> bool:
        font = self.current_font
        if isinstance(font, TTFFont):
            return codepoint in font.cmap
        # A core font: Latin-1's printable characters.
        return 0x20 <= codepoint <= 0x7E or 0xA0 <= codepoint <= 0xFF


def _printable(text: str, has_glyph: Callable[[int], bool]) -> str:
    return "".join(_printable_char(char, has_glyph) for char in text)


def _printable_char(char: str, has_glyph: Callable[[int], bool]) -> str:
    """The character if the font has it; else its compatibility decomposition's parts the font has ("ﬁ" → "fi",
    "ő" → "o" in Latin-1); else "?". Controls become a space (but a line break), invisible format characters
    and unprintable marks (an emoji's variation selector) nothing."""
    if char == "\n":
        return char
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    if category.startswith("C"):
        return ""
    if has_glyph(ord(char)):
        return char
    parts = [part for part in unicodedata.normalize("NFKD", char) if has_glyph(ord(part))]
    if any(not unicodedata.combining(part) for part in parts):
        return "".join(parts)
    return "" if category.startswith("M") else "?"


def _document(invoice: Invoice) -> FPDF:
    pdf = _ProformaPDF(format="A4")
    # The creation date is written into the file (and its /ID): the invoice's, so that rendering is repeatable.
    pdf.set_creation_date(invoice.created_at)
    pdf.set_title(_("Proforma invoice %(number)s") % {"number": invoice.number})
    pdf.set_author(settings.BILLING_SELLER_NAME)
    pdf.set_lang(get_language() or settings.LANGUAGE_CODE)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_page()
    _font_set(pdf)
    return pdf


def _font_set(pdf: FPDF) -> None:
    """DejaVu Sans; Helvetica when a build left fonts/ out (logged), where _printable keeps to Latin-1."""
    if FONT_PATH.is_file():
        pdf.add_font(FONT_FAMILY, fname=FONT_PATH)
        pdf.set_font(FONT_FAMILY, size=TEXT_SIZE)
        return
    logger.warning("Invoice PDF: %s is missing, text outside Latin-1 prints as '?'.", FONT_PATH)
    pdf.set_font("helvetica", size=TEXT_SIZE)


def _strong(pdf: FPDF, *, size: float) -> AbstractContextManager[None]:
    """Bold, drawn filled and outlined from the one bundled weight: a second font file would double the size
    for three lines of bold."""
    return pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.25, font_size_pt=size)


def _text(pdf: FPDF, text: str) -> None:
    # multi_cell: an address or a workspace's name may be long, or hold line breaks.
    pdf.multi_cell(w=0, h=LINE, text=text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _seller(pdf: FPDF) -> None:
    with _strong(pdf, size=14):
        _text(pdf, settings.BILLING_SELLER_NAME)
    _text(pdf, settings.BILLING_SELLER_ADDRESS)
    if settings.BILLING_SELLER_NPWP:
        _text(pdf, _("NPWP: %(npwp)s") % {"npwp": settings.BILLING_SELLER_NPWP})
    pdf.ln(LINE)


def _title(pdf: FPDF) -> None:
    with _strong(pdf, size=18):
        pdf.cell(h=LINE * 1.5, text=_("PROFORMA INVOICE"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(LINE / 2)


def _buyer(pdf: FPDF, *, order: TopUpOrder, workspace: Workspace) -> None:
    _row(pdf, _("Billed to"), workspace.name)
    _row(pdf, _("Billing email"), order.billing_email)


def _details(pdf: FPDF, *, invoice: Invoice, zone: ZoneInfo) -> None:
    _row(pdf, _("Invoice number"), invoice.number)
    _row(pdf, _("Date"), _moment(invoice.created_at, zone))
    _row(pdf, _("Pay by"), _moment(invoice.due_at, zone))
    _row(pdf, _("Status"), str(invoice.get_status_display()))
    if invoice.payment_method:
        _row(pdf, _("Payment method"), _payment_method(invoice))
    if invoice.paid_at is not None:
        _row(pdf, _("Paid on"), _moment(invoice.paid_at, zone))
    pdf.ln(LINE)


def _row(pdf: FPDF, label: str, value: str) -> None:
    pdf.cell(w=LABEL_WIDTH, h=LINE, text=label)
    _text(pdf, value)


def _moment(value: datetime, zone: ZoneInfo) -> str:
    """`1 Dec 2026, 10:00 (Asia/Jakarta)`: the wall-clock time of the zone, named, since a reader may be in
    another one."""
    return f"{date_format(timezone.localtime(value, zone), 'DATETIME_FORMAT')} ({zone.key})"


def _payment_method(invoice: Invoice) -> str:
    method = str(invoice.get_payment_method_display())
    if invoice.payment_method == PaymentMethod.VIRTUAL_ACCOUNT and invoice.bank:
        return f"{method} ({invoice.get_bank_display()})"
    return method


def _lines(pdf: FPDF, *, order: TopUpOrder) -> None:
    with pdf.local_context(text_color=GREY):
        _amount_row(pdf, _("Description"), _("Amount"))
    _rule(pdf)
    for line in order.lines:
        _amount_row(pdf, _line_text(line), format_money(line["price"]))
    _rule(pdf)


def _line_text(line: dict[str, Any]) -> str:
    if line["kind"] == BalanceKind.MUV:
        return _("%(quantity)s unique visitors") % {"quantity": format_number(line["quantity"])}
    return _("WhatsApp balance")


def _totals(pdf: FPDF, *, invoice: Invoice, order: TopUpOrder) -> None:
    _amount_row(pdf, _("Subtotal"), format_money(order.subtotal), align="R")
    vat = _("VAT %(rate)s%% of %(base)s") % {"rate": order.vat_rate, "base": format_number(order.vat_base)}
    _amount_row(pdf, vat, format_money(order.vat), align="R")
    if invoice.card_fee > 0:
        _amount_row(pdf, _("Card fee"), format_money(invoice.card_fee), align="R")
    pdf.ln(LINE / 2)
    # What the payer pays: the order's total, and the card fee when paying by card.
    with _strong(pdf, size=12):
        _amount_row(pdf, _("Total"), format_money(invoice.amount_due), align="R")
    pdf.ln(LINE)


def _amount_row(pdf: FPDF, label: str, amount: str, *, align: str = "L") -> None:
    pdf.cell(w=pdf.epw - AMOUNT_WIDTH, h=LINE, text=label, align=align)
    pdf.cell(w=AMOUNT_WIDTH, h=LINE, text=amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rule(pdf: FPDF) -> None:
    pdf.line(pdf.l_margin, pdf.y, pdf.w - pdf.r_margin, pdf.y)


def _note(pdf: FPDF) -> None:
    note = _(
        "This proforma invoice is not a tax invoice. For a tax invoice (Faktur Pajak), send this proforma to "
        "support at %(email)s."
    ) % {"email": settings.BILLING_SUPPORT_EMAIL}
    with pdf.local_context(font_size_pt=NOTE_SIZE, text_color=GREY):
        pdf.multi_cell(w=0, h=LINE * 0.8, text=note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
