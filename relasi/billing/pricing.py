"""The rules of a top-up order, as numbers: what MUV costs, the WhatsApp minimum, VAT, the card fee and an
invoice's deadline. Pure functions of their arguments and of dated configuration, so that the form, the booking
confirmation, the invoice, the PDF and the API all show the same figures.

- Unique visitors are sold in blocks of 500 at IDR 300,000 a block; a top-up is for the current month only.
- A WhatsApp top-up is at least IDR 1,000,000: a smaller amount is raised to it, and the order says so.
- VAT is a dated rate on a dated base: from 1 January 2025, 12% of 11/12 of the subtotal (11% in effect).
- Paying by card adds 3.5% of the billed total (VAT included).
- An invoice can be paid until 23:59 of the day after it was made, in the workspace's time zone.
Every percentage is rounded by the shared helper (relasi.core.money.percent_of: half up, to the rupiah).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from relasi.billing.services import top_up_split
from relasi.core.money import percent_of

MUV_BLOCK = 500
MUV_BLOCK_PRICE = 300_000
# No order asks for more than this many visitors or rupiah: a mistake or an attack, refused before arithmetic.
MUV_MAX = 10_000_000
WHATSAPP_MINIMUM = 1_000_000
WHATSAPP_MAX = 10_000_000_000
CARD_FEE_PERCENT = Decimal("3.5")


@dataclass(frozen=True)
class VatRule:
    since: date
    rate_percent: Decimal
    # The share of the subtotal VAT is computed on, as a fraction.
    base_numerator: int
    base_denominator: int


# Newest last; the rule of a day is the last one in force.
VAT_RULES = (
    VatRule(since=date(2025, 1, 1), rate_percent=Decimal(12), base_numerator=11, base_denominator=12),
)


def vat_rule(*, on: date) -> VatRule:
    rules = [rule for rule in VAT_RULES if rule.since <= on]
    if not rules:
        raise ValueError(f"No VAT rule in force on {on}.")
    return rules[-1]


@dataclass(frozen=True)
class Line:
    # "muv" or "whatsapp"; what it brings (visitors, or rupiah of balance) and what it costs.
    kind: str
    quantity: int
    price: int


@dataclass(frozen=True)
class Quote:
    lines: list[Line]
    subtotal: int
    vat_rate_percent: Decimal
    vat_base: int
    vat: int
    total: int
    # What of the WhatsApp top-up settles the outstanding, and what is added to the balance.
    settles: int = 0
    adds: int = 0
    # Why the order differs from what was asked: "whatsapp_minimum".
    notices: list[str] = field(default_factory=list)


def _whole(value: object, maximum: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= maximum


def top_up_amounts_errors(*, muv_visitors: object, whatsapp_amount: object) -> dict[str, list[str]]:
    """What is wrong with a top-up's amounts, by field: whole numbers in range, visitors in blocks, not both 0 —
    for an order and for a request to support alike."""
    errors: dict[str, list[str]] = {}
    if not _whole(muv_visitors, MUV_MAX):
        errors["muv_visitors"] = [_("Send a whole number from 0 to %(max)d.") % {"max": MUV_MAX}]
    elif isinstance(muv_visitors, int) and muv_visitors % MUV_BLOCK:
        errors["muv_visitors"] = [
            _("Unique visitors are sold in multiples of %(block)d.") % {"block": MUV_BLOCK}
        ]
    if not _whole(whatsapp_amount, WHATSAPP_MAX):
        errors["whatsapp_amount"] = [_("Send a whole number from 0 to %(max)d.") % {"max": WHATSAPP_MAX}]
    if not errors and not muv_visitors and not whatsapp_amount:
        errors["__all__"] = [_("Choose unique visitors, a WhatsApp amount, or both.")]
    return errors


def order_quote(*, muv_visitors: int, whatsapp_amount: int, whatsapp_balance: int, on: date) -> Quote:
    """The lines, VAT and total of a top-up of `muv_visitors` and `whatsapp_amount` (either may be 0, not both);
    `whatsapp_balance` is the balance now, whose outstanding the top-up settles first."""
    errors = top_up_amounts_errors(muv_visitors=muv_visitors, whatsapp_amount=whatsapp_amount)
    if errors:
        raise ValidationError(errors)
    visitors, amount = muv_visitors, whatsapp_amount
    lines: list[Line] = []
    notices: list[str] = []
    if visitors:
        lines.append(Line(kind="muv", quantity=visitors, price=visitors // MUV_BLOCK * MUV_BLOCK_PRICE))
    settles = adds = 0
    if amount:
        if amount < WHATSAPP_MINIMUM:
            amount = WHATSAPP_MINIMUM
            notices.append("whatsapp_minimum")
        lines.append(Line(kind="whatsapp", quantity=amount, price=amount))
        settles, adds = top_up_split(balance=whatsapp_balance, amount=amount)
    subtotal = sum(line.price for line in lines)
    rule = vat_rule(on=on)
    vat_base = int(
        (Decimal(subtotal) * rule.base_numerator / rule.base_denominator).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )
    vat = percent_of(amount=vat_base, rate_percent=rule.rate_percent)
    return Quote(
        lines=lines,
        subtotal=subtotal,
        vat_rate_percent=rule.rate_percent,
        vat_base=vat_base,
        vat=vat,
        total=subtotal + vat,
        settles=settles,
        adds=adds,
        notices=notices,
    )


def card_fee(*, total: int) -> int:
    """The card payment's fee on the billed total."""
    return percent_of(amount=total, rate_percent=CARD_FEE_PERCENT)


def invoice_deadline(*, created_at: datetime, zone: ZoneInfo) -> datetime:
    """23:59 of the day after `created_at`, in the workspace's zone (the last moment of that minute)."""
    day = created_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)
