"""Withholding tax on a partner's commission line: pure arithmetic over a dated rate table (docs/partners-tax.md).

- A company partner: PPh 23 on the gross, 2%, or 4% when it has no NPWP (the 100% surcharge).
- An individual partner: PPh 21 for a non-employee ("bukan pegawai"): the progressive Article 17 rates on 50%
  of the gross, cumulative over the calendar year, so a line that crosses a bracket is taxed partly at each rate.
- A negative gross (a clawback) reverses the tax: the same rate for PPh 23; for PPh 21 the brackets walked
  backwards from the year's cumulative total, which is the clawed-back line's own slice when nothing came after it.

A rule change is a new dated entry in `TAX_RULES`; a line stores the `rule` and `rate_text` it was taxed with, so
an old line keeps its figures. Money is integer rupiah and every percentage goes through
`relasi.core.money.percent_of` (half up, to the rupiah).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relasi.core.money import percent_of

# The values of relasi.partners.models.PartnerKind, repeated so this module needs no model (and no database).
COMPANY = "company"
INDIVIDUAL = "individual"

PPH23 = "pph23"
PPH23_NO_NPWP = "pph23_no_npwp"
PPH21_NON_EMPLOYEE = "pph21_non_employee"


@dataclass(frozen=True)
class Bracket:
    # The bracket runs from the previous bracket's `up_to` (or 0) to this `up_to` of the year's cumulative base;
    # None: no upper end.
    up_to: int | None
    rate_percent: Decimal


@dataclass(frozen=True)
class TaxRule:
    since: date
    pph23_percent: Decimal
    pph23_no_npwp_percent: Decimal
    # The share of a non-employee's gross that PPh 21 is computed on.
    pph21_base_percent: Decimal
    pph21_brackets: tuple[Bracket, ...]
    source: str


# Newest last; the rule of a day is the last one in force. Sources (checked 2025):
# - Article 17(1)(a) of the Income Tax Law as amended by UU 7/2021 (Harmonisasi Peraturan Perpajakan, "HPP"),
#   from tax year 2022: 5% up to IDR 60 million; 15% above 60 million to 250 million; 25% above 250 million to
#   500 million; 30% above 500 million to 5 billion; 35% above 5 billion
#   (https://www.inews.id/finance/makro/batas-penghasilan-kena-pajak-5-persen-naik-menjadi-rp60-juta/all,
#   https://moores-rowland.com/articles/5MillionPerMonthIncome).
# - PPh 21 of a non-employee: Article 17 rates on 50% of the gross, on the cumulative gross of the calendar year
#   for a recipient paid repeatedly (PER-16/PJ/2016; restated by PMK 168/2023, in force from 1 January 2024:
#   https://blog.lekslawyer.com/ringkasan-terbatas-peraturan-menteri-keuangan-no-168-tahun-2023).
# - PPh 23 on services: 2% of the gross (Article 23(1)(c) of the Income Tax Law, PMK 141/PMK.03/2015); 100%
#   higher, 4%, for a recipient without an NPWP (Article 23(1a))
#   (https://blog.jasabayar.zone.id/posts/pph-23-berapa-bayarnya-untuk-jasa-tarif-perhitungan).
TAX_RULES = (
    TaxRule(
        since=date(2022, 1, 1),
        pph23_percent=Decimal(2),
        pph23_no_npwp_percent=Decimal(4),
        pph21_base_percent=Decimal(50),
        pph21_brackets=(
            Bracket(up_to=60_000_000, rate_percent=Decimal(5)),
            Bracket(up_to=250_000_000, rate_percent=Decimal(15)),
            Bracket(up_to=500_000_000, rate_percent=Decimal(25)),
            Bracket(up_to=5_000_000_000, rate_percent=Decimal(30)),
            Bracket(up_to=None, rate_percent=Decimal(35)),
        ),
        source="UU 7/2021 (HPP) art. 17; PER-16/PJ/2016 and PMK 168/2023; UU PPh art. 23, PMK 141/PMK.03/2015",
    ),
)


@dataclass(frozen=True)
class Withholding:
    rule: str
    # What the line stores and shows: "2%", "4%", "5% on 50%", "5%/15% on 50%".
    rate_text: str
    base: int
    tax: int
    net: int


def tax_rule(*, on: date, rules: tuple[TaxRule, ...] | None = None) -> TaxRule:
    """The rule in force on `on`, from `TAX_RULES` unless `rules` is given (tests of the dating)."""
    in_force = [rule for rule in (TAX_RULES if rules is None else rules) if rule.since <= on]
    if not in_force:
        raise ValueError(f"No withholding tax rule in force on {on}.")
    return in_force[-1]


def withholding_for(
    *,
    kind: str,
    has_npwp: bool,
    gross: int,
    gross_earlier_this_year: int,
    on: date,
    rules: tuple[TaxRule, ...] | None = None,
) -> Withholding:
    """The tax withheld from a commission line of `gross` rupiah paid on `on`.

    `gross_earlier_this_year` is the sum of the gross of the partner's earlier lines of the same calendar year
    (clawbacks included): only PPh 21 uses it, and finding it is the caller's job. `has_npwp` only matters to a
    company: an individual registers with a KTP whose NIK serves as their NPWP (PMK 112/PMK.03/2022).
    """
    _require_rupiah(gross, "gross")
    _require_rupiah(gross_earlier_this_year, "gross_earlier_this_year")
    rule = tax_rule(on=on, rules=rules)
    if kind == COMPANY:
        return _pph23(rule=rule, has_npwp=has_npwp, gross=gross)
    if kind == INDIVIDUAL:
        return _pph21(rule=rule, gross=gross, earlier=gross_earlier_this_year)
    raise ValueError(f"Unknown partner kind {kind!r}.")


def _require_rupiah(value: object, name: str) -> None:
    # bool is an int to Python, but True rupiah is a bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer number of rupiah")


def _pph23(*, rule: TaxRule, has_npwp: bool, gross: int) -> Withholding:
    percent = rule.pph23_percent if has_npwp else rule.pph23_no_npwp_percent
    # percent_of rounds a negative amount symmetrically, so a clawback reverses exactly the tax of its line.
    tax = percent_of(amount=gross, rate_percent=percent)
    return Withholding(
        rule=PPH23 if has_npwp else PPH23_NO_NPWP,
        rate_text=f"{_percent_text(percent)}%",
        base=gross,
        tax=tax,
        net=gross - tax,
    )


def _pph21(*, rule: TaxRule, gross: int, earlier: int) -> Withholding:
    # The line's base is how much it moves the year's cumulative base (50% of the year's cumulative gross, rounded
    # once). So the bases of a year add up to exactly 50% of its gross, and a clawback of a line, passed the
    # cumulative gross that includes that line, covers exactly the same slice of the brackets.
    start = percent_of(amount=earlier, rate_percent=rule.pph21_base_percent)
    end = percent_of(amount=earlier + gross, rate_percent=rule.pph21_base_percent)
    low, high = min(start, end), max(start, end)
    slices = _bracket_slices(low=low, high=high, brackets=rule.pph21_brackets)
    tax = sum(percent_of(amount=amount, rate_percent=percent) for amount, percent in slices)
    if gross < 0:
        tax = -tax
    rates = [percent for _amount, percent in slices] or [_rate_at(position=low, brackets=rule.pph21_brackets)]
    rates_text = "/".join(f"{_percent_text(percent)}%" for percent in rates)
    return Withholding(
        rule=PPH21_NON_EMPLOYEE,
        rate_text=f"{rates_text} on {_percent_text(rule.pph21_base_percent)}%",
        base=end - start,
        tax=tax,
        net=gross - tax,
    )


def _bracket_slices(*, low: int, high: int, brackets: tuple[Bracket, ...]) -> list[tuple[int, Decimal]]:
    """The part of the cumulative base from `low` to `high` inside each bracket, lowest first, as (rupiah, rate).

    A position below 0 (a year whose clawbacks exceed its lines) counts in the first bracket: the reversal of a
    line from an earlier year goes back at the lowest rate rather than at a rate never withheld this year.
    """
    slices: list[tuple[int, Decimal]] = []
    floor: int | None = None  # None: the first bracket reaches down without end.
    for bracket in brackets:
        bottom = low if floor is None else max(low, floor)
        top = high if bracket.up_to is None else min(high, bracket.up_to)
        if top > bottom:
            slices.append((top - bottom, bracket.rate_percent))
        floor = bracket.up_to
        if floor is None or floor >= high:
            break
    return slices


def _rate_at(*, position: int, brackets: tuple[Bracket, ...]) -> Decimal:
    """The rate of the next rupiah of base after `position`: what a line of no base shows."""
    for bracket in brackets:
        if bracket.up_to is None or position < bracket.up_to:
            return bracket.rate_percent
    raise ValueError("The last bracket must have no upper end.")


def _percent_text(percent: Decimal) -> str:
    # Decimal(2) → "2", Decimal("2.5") → "2.5": the rate as a person writes it.
    return format(percent.normalize(), "f")
