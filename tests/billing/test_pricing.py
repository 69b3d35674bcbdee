"""The rules of a top-up order, as the article gives them: MUV in blocks of 500 at IDR 300,000, the WhatsApp
minimum, the outstanding settled first, VAT of 12% on 11/12, the card fee of 3.5%, the deadline at 23:59 of the
next day in the workspace's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from relasi.billing.pricing import (
    MUV_BLOCK,
    MUV_BLOCK_PRICE,
    WHATSAPP_MINIMUM,
    Line,
    card_fee,
    invoice_deadline,
    order_quote,
)

TODAY = date(2026, 12, 8)


def test_visitors_are_sold_in_blocks_of_500() -> None:
    quote = order_quote(muv_visitors=1_500, whatsapp_amount=0, whatsapp_balance=0, on=TODAY)
    assert quote.lines == [Line(kind="muv", quantity=1_500, price=900_000)]
    with pytest.raises(ValidationError, match="multiples of 500"):
        order_quote(muv_visitors=750, whatsapp_amount=0, whatsapp_balance=0, on=TODAY)


def test_a_whatsapp_amount_below_the_minimum_is_raised_and_said() -> None:
    quote = order_quote(muv_visitors=0, whatsapp_amount=250_000, whatsapp_balance=0, on=TODAY)
    assert quote.lines == [Line(kind="whatsapp", quantity=1_000_000, price=1_000_000)]
    assert quote.notices == ["whatsapp_minimum"]


def test_the_outstanding_is_settled_first() -> None:
    quote = order_quote(muv_visitors=0, whatsapp_amount=1_000_000, whatsapp_balance=-5_000, on=TODAY)
    assert (quote.settles, quote.adds) == (5_000, 995_000)


def test_vat_is_12_percent_of_eleven_twelfths_and_the_card_fee_3_5_percent_of_the_total() -> None:
    # 500 visitors and IDR 1,000,000: 1,300,000; base 1,191,666.67 → 1,191,667; VAT 143,000.04 → 143,000
    quote = order_quote(muv_visitors=500, whatsapp_amount=1_000_000, whatsapp_balance=0, on=TODAY)
    assert (quote.subtotal, quote.vat_base, quote.vat_rate_percent, quote.vat, quote.total) == (
        1_300_000,
        1_191_667,
        Decimal(12),
        143_000,
        1_443_000,
    )
    # 3.5% of 1,443,000 is 50,505
    assert card_fee(total=quote.total) == 50_505
    # 3.5% of 1,001 is 35.035 → 35; of 1,010 is 35.35 → 35; of 1,030 is 36.05 → 36 (half up)
    assert [card_fee(total=total) for total in (1_001, 1_010, 1_030)] == [35, 35, 36]


@pytest.mark.parametrize(
    "wrong",
    [
        {"muv_visitors": 0, "whatsapp_amount": 0},
        {"muv_visitors": -500, "whatsapp_amount": 0},
        {"muv_visitors": 10**20, "whatsapp_amount": 0},
        {"muv_visitors": 0, "whatsapp_amount": 10**20},
        {"muv_visitors": True, "whatsapp_amount": 0},
        {"muv_visitors": 0, "whatsapp_amount": 1.5e6},
    ],
)
def test_bad_orders_are_refused(wrong: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        order_quote(whatsapp_balance=0, on=TODAY, **wrong)  # type: ignore[arg-type]


@given(
    blocks=st.integers(min_value=0, max_value=2_000),
    amount=st.integers(min_value=0, max_value=50_000_000),
    balance=st.integers(min_value=-10_000_000, max_value=10_000_000),
)
def test_any_order_adds_up(blocks: int, amount: int, balance: int) -> None:
    if not blocks and not amount:
        return
    quote = order_quote(
        muv_visitors=blocks * MUV_BLOCK, whatsapp_amount=amount, whatsapp_balance=balance, on=TODAY
    )
    # the lines make the subtotal, VAT is within half a rupiah of 11% and the total adds up
    assert quote.subtotal == blocks * MUV_BLOCK_PRICE + (max(amount, WHATSAPP_MINIMUM) if amount else 0)
    assert abs(quote.vat - quote.subtotal * Decimal("0.11")) <= 1
    assert quote.total == quote.subtotal + quote.vat
    # and the WhatsApp part is split exactly between the outstanding and the balance
    assert quote.settles + quote.adds == (max(amount, WHATSAPP_MINIMUM) if amount else 0)
    assert 0 <= quote.settles <= max(0, -balance)


JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(
    ("created_utc", "zone", "deadline_local"),
    [
        # an ordinary day in Jakarta
        (datetime(2026, 12, 8, 3, 0, tzinfo=UTC), "Asia/Jakarta", datetime(2026, 12, 9, 23, 59, 59)),
        # across a month's end
        (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "Asia/Jakarta", datetime(2026, 12, 1, 23, 59, 59)),
        # across a year's end
        (datetime(2026, 12, 31, 5, 0, tzinfo=UTC), "Asia/Jakarta", datetime(2027, 1, 1, 23, 59, 59)),
        # late on 28 February: 1 March is the next day (2027 is not a leap year)
        (datetime(2027, 2, 28, 16, 0, tzinfo=UTC), "Asia/Jakarta", datetime(2027, 3, 1, 23, 59, 59)),
        # 16:30 UTC is already the next day in Jayapura (UTC+9) and in Makassar (UTC+8), not in Jakarta (UTC+7)
        (datetime(2026, 12, 8, 16, 30, tzinfo=UTC), "Asia/Jayapura", datetime(2026, 12, 10, 23, 59, 59)),
        (datetime(2026, 12, 8, 16, 30, tzinfo=UTC), "Asia/Makassar", datetime(2026, 12, 10, 23, 59, 59)),
        (datetime(2026, 12, 8, 16, 30, tzinfo=UTC), "Asia/Jakarta", datetime(2026, 12, 9, 23, 59, 59)),
    ],
)
def test_an_invoice_can_be_paid_until_2359_of_the_next_day_in_the_workspaces_zone(
    created_utc: datetime, zone: str, deadline_local: datetime
) -> None:
    deadline = invoice_deadline(created_at=created_utc, zone=ZoneInfo(zone))
    assert deadline.replace(tzinfo=None) == deadline_local
    assert deadline.utcoffset() == ZoneInfo(zone).utcoffset(deadline_local)
