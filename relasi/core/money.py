"""Rupiah money: integers only, one rounding rule for every percentage.

Rule (docs/money.md): a percentage of an amount is computed exactly with decimals and rounded half
up to the whole rupiah — 0.5 goes away from zero. Negative amounts round symmetrically.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# A whole rupiah amount as each number style of relasi.core.inputs writes it: the example of a message that
# refuses one.
RUPIAH_EXAMPLES = {"plain": "1500000", "id": "Rp 1.500.000", "en": "Rp 1,500,000"}


def percent_of(*, amount: int, rate_percent: Decimal | str | int) -> int:
    """Return rate_percent % of amount, rounded half up to the rupiah."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an integer number of rupiah")
    if isinstance(rate_percent, float):
        raise TypeError("rate_percent must be a Decimal, str or int, never a float")
    exact = Decimal(amount) * Decimal(rate_percent) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_rupiah(amount: int, *, thousands: str = ".") -> str:
    """Format like `Rp 1.000.000` (dots group thousands); negatives as `-Rp 5.000`.

    `thousands` is the separator of the reader's language (relasi.core.formatting passes it): `Rp 1,000,000`.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an integer number of rupiah")
    grouped = f"{abs(amount):,}".replace(",", thousands)
    return f"-Rp {grouped}" if amount < 0 else f"Rp {grouped}"
