"""The pure rules of partner commissions (docs/partners-tax.md): withholding tax from the dated table (PPh 23 for
companies, PPh 21 cumulative brackets on 50% for individuals), rounding, clawbacks, the nine statuses and every
move between them, and the three-month rule. No database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from relasi.core.money import percent_of
from relasi.core.validation import StateConflict
from relasi.partners.commission_states import (
    ALLOWED_MOVES,
    JOB,
    MOVED_BY,
    STAFF,
    CommissionStatus,
    move_check,
    payable_from,
    payable_on,
)
from relasi.partners.models import PartnerKind
from relasi.partners.tax import (
    COMPANY,
    INDIVIDUAL,
    TAX_RULES,
    Bracket,
    TaxRule,
    Withholding,
    tax_rule,
    withholding_for,
)

ON = date(2026, 3, 15)
S = CommissionStatus


def individual(*, gross: int, earlier: int = 0, on: date = ON) -> Withholding:
    return withholding_for(
        kind=INDIVIDUAL, has_npwp=True, gross=gross, gross_earlier_this_year=earlier, on=on
    )


def company(*, gross: int, has_npwp: bool = True, on: date = ON) -> Withholding:
    return withholding_for(kind=COMPANY, has_npwp=has_npwp, gross=gross, gross_earlier_this_year=0, on=on)


# --- PPh 23: companies ---------------------------------------------------------------------------------------


def test_a_company_with_an_npwp_has_2_percent_pph23_withheld() -> None:
    # Given a company partner with an NPWP, when a line of IDR 1,000,000 is taxed
    line = company(gross=1_000_000)
    # then 2% of the gross is withheld
    assert line == Withholding(rule="pph23", rate_text="2%", base=1_000_000, tax=20_000, net=980_000)


def test_a_company_without_an_npwp_has_4_percent_withheld() -> None:
    # Given a company without an NPWP, when a line of IDR 1,000,000 is taxed, then the rate is 100% higher
    line = company(gross=1_000_000, has_npwp=False)
    assert line == Withholding(rule="pph23_no_npwp", rate_text="4%", base=1_000_000, tax=40_000, net=960_000)


def test_pph23_ignores_what_the_company_was_paid_earlier() -> None:
    # Given the same line, when the company was paid a lot earlier in the year, then nothing changes (flat rate)
    line = withholding_for(
        kind=COMPANY, has_npwp=True, gross=1_000_000, gross_earlier_this_year=10**12, on=ON
    )
    assert line.tax == 20_000


# --- PPh 21: individuals, cumulative over the calendar year ----------------------------------------------------


def test_a_line_inside_the_first_bracket_is_taxed_5_percent_on_half() -> None:
    # Given an individual's first line of the year of IDR 10,000,000: base 5,000,000, 5% → 250,000
    line = individual(gross=10_000_000)
    assert line == Withholding(
        rule="pph21_non_employee", rate_text="5% on 50%", base=5_000_000, tax=250_000, net=9_750_000
    )


def test_a_line_crossing_60_million_of_base_is_taxed_partly_at_each_rate() -> None:
    # Given IDR 110,000,000 of gross earlier this year (base 55,000,000), when a line of 20,000,000 (base
    # 10,000,000) is taxed, then 5,000,000 is taxed at 5% (250,000) and 5,000,000 at 15% (750,000)
    line = individual(gross=20_000_000, earlier=110_000_000)
    assert line == Withholding(
        rule="pph21_non_employee", rate_text="5%/15% on 50%", base=10_000_000, tax=1_000_000, net=19_000_000
    )


def test_a_line_wholly_in_the_second_bracket_after_earlier_lines() -> None:
    # Given 150,000,000 earlier (base 75,000,000, past 60 million), a line of 20,000,000: base 10,000,000 at 15%
    line = individual(gross=20_000_000, earlier=150_000_000)
    assert (line.rate_text, line.base, line.tax, line.net) == (
        "15% on 50%",
        10_000_000,
        1_500_000,
        18_500_000,
    )


def test_a_new_year_restarts_at_the_first_bracket() -> None:
    # Given the same line as above, when the caller passes no earlier gross (the first line of a new year), then
    # the line is back at 5%
    line = individual(gross=20_000_000, earlier=0, on=date(2027, 1, 2))
    assert (line.rate_text, line.tax) == ("5% on 50%", 500_000)


def test_a_large_line_spans_several_brackets() -> None:
    # Base 600,000,000: 60M × 5% = 3,000,000; 190M × 15% = 28,500,000; 250M × 25% = 62,500,000;
    # 100M × 30% = 30,000,000 → 124,000,000
    line = individual(gross=1_200_000_000)
    assert (line.rate_text, line.base, line.tax) == ("5%/15%/25%/30% on 50%", 600_000_000, 124_000_000)


def test_above_5_billion_of_base_the_rate_is_35_percent() -> None:
    line = individual(gross=2_000_000, earlier=10_000_000_000)
    assert (line.rate_text, line.tax) == ("35% on 50%", 350_000)


def test_a_line_ending_exactly_on_a_boundary_stays_in_the_lower_bracket() -> None:
    # Base from 50,000,000 to exactly 60,000,000: all at 5%; the next rupiah of base is at 15%
    assert individual(gross=20_000_000, earlier=100_000_000).rate_text == "5% on 50%"
    assert individual(gross=2, earlier=120_000_000).rate_text == "15% on 50%"


def test_a_line_of_nothing_shows_the_rate_of_the_next_rupiah() -> None:
    assert individual(gross=0).rate_text == "5% on 50%"
    assert individual(gross=0, earlier=120_000_000) == Withholding(
        rule="pph21_non_employee", rate_text="15% on 50%", base=0, tax=0, net=0
    )


# --- Rounding: half up to the rupiah, by the shared helper --------------------------------------------------------


def test_pph23_rounds_half_up() -> None:
    # 2% of 25 is 0.5 → 1; of 125 is 2.5 → 3; of 74 is 1.48 → 1
    assert [company(gross=gross).tax for gross in (25, 125, 74)] == [1, 3, 1]


def test_pph21_rounds_the_base_and_the_tax_half_up() -> None:
    # 50% of 1 is 0.5 → base 1; 5% of it is 0.05 → 0. Gross 20: base 10, 5% is 0.5 → 1
    assert (individual(gross=1).base, individual(gross=1).tax) == (1, 0)
    assert (individual(gross=20).base, individual(gross=20).tax) == (10, 1)


def test_the_bases_of_a_year_add_up_to_half_its_gross() -> None:
    # Each base is how much the line moves the year's cumulative base (50% of the cumulative gross, rounded
    # once): three lines of 1 rupiah have bases 1 (0.5 up), 0 (1 − 1) and 1 (2 − 1): 2, which is 50% of 3.
    bases = [individual(gross=1, earlier=earlier).base for earlier in (0, 1, 2)]
    assert bases == [1, 0, 1]
    assert sum(bases) == percent_of(amount=3, rate_percent=50)


def test_each_bracket_slice_of_a_crossing_line_is_rounded_on_its_own() -> None:
    # Base from 59,999,990 to 60,000,010: 10 at 5% is 0.5 → 1, 10 at 15% is 1.5 → 2, so the tax is 3
    line = individual(gross=40, earlier=119_999_980)
    assert (line.rate_text, line.base, line.tax) == ("5%/15% on 50%", 20, 3)


# --- Clawbacks: a negative line reverses the tax -------------------------------------------------------------------


def test_a_company_clawback_reverses_the_tax_at_the_same_rate() -> None:
    assert company(gross=-1_000_000) == Withholding(
        rule="pph23", rate_text="2%", base=-1_000_000, tax=-20_000, net=-980_000
    )
    assert company(gross=-25, has_npwp=False).tax == -1  # 4% of 25 is 1.0; symmetric rounding


def test_an_individual_clawback_walks_the_brackets_backwards_from_the_cumulative_total() -> None:
    # Given the crossing line above (tax 1,000,000), when it is clawed back with the year's gross including it
    # (130,000,000), then exactly the same slices are reversed
    clawback = individual(gross=-20_000_000, earlier=130_000_000)
    assert clawback == Withholding(
        rule="pph21_non_employee",
        rate_text="5%/15% on 50%",
        base=-10_000_000,
        tax=-1_000_000,
        net=-19_000_000,
    )


def test_a_clawback_after_later_lines_reverses_the_top_of_the_year() -> None:
    # Given January 100M, February 10M, March 20M and April 20M (taxes 2.5M, 0.25M, 1M, 1.5M), when March is
    # clawed back in May, then the top 10M of base comes off at 15%, and the year's tax is that of 130M as one line
    taxes = [individual(gross=g, earlier=e).tax for g, e in [(100_000_000, 0), (10_000_000, 100_000_000)]]
    taxes += [individual(gross=20_000_000, earlier=e).tax for e in (110_000_000, 130_000_000)]
    clawback = individual(gross=-20_000_000, earlier=150_000_000)
    assert taxes == [2_500_000, 250_000, 1_000_000, 1_500_000]
    assert (clawback.rate_text, clawback.tax) == ("15% on 50%", -1_500_000)
    assert sum(taxes) + clawback.tax == individual(gross=130_000_000).tax == 3_750_000


def test_a_clawback_larger_than_the_years_gross_goes_back_at_the_first_rate() -> None:
    # A December line clawed back in January: nothing earlier this year, so the base goes below 0, at 5%
    clawback = individual(gross=-10_000_000, earlier=0, on=date(2027, 1, 5))
    assert (clawback.rate_text, clawback.base, clawback.tax, clawback.net) == (
        "5% on 50%",
        -5_000_000,
        -250_000,
        -9_750_000,
    )


# --- The dated table -------------------------------------------------------------------------------------------------

LATER = TaxRule(
    since=date(2030, 1, 1),
    pph23_percent=Decimal("2.5"),
    pph23_no_npwp_percent=Decimal(5),
    pph21_base_percent=Decimal(50),
    pph21_brackets=(
        Bracket(up_to=100_000_000, rate_percent=Decimal(10)),
        Bracket(up_to=None, rate_percent=Decimal(20)),
    ),
    source="a made-up rule for the test",
)


def test_the_table_is_in_order_newest_last_and_starts_with_uu_hpp() -> None:
    assert [rule.since for rule in TAX_RULES] == sorted(rule.since for rule in TAX_RULES)
    assert TAX_RULES[0].since == date(2022, 1, 1)
    assert [(b.up_to, b.rate_percent) for b in TAX_RULES[0].pph21_brackets] == [
        (60_000_000, 5),
        (250_000_000, 15),
        (500_000_000, 25),
        (5_000_000_000, 30),
        (None, 35),
    ]


def test_a_rule_from_a_later_date_applies_from_that_date() -> None:
    # Given a table with a later rule from 1 January 2030
    rules = (*TAX_RULES, LATER)
    # when a line is taxed the day before, then the old rule applies; from that day, the new one
    before = withholding_for(
        kind=COMPANY,
        has_npwp=True,
        gross=1_000,
        gross_earlier_this_year=0,
        on=date(2029, 12, 31),
        rules=rules,
    )
    after = withholding_for(
        kind=COMPANY, has_npwp=True, gross=1_000, gross_earlier_this_year=0, on=date(2030, 1, 1), rules=rules
    )
    assert (before.rate_text, before.tax) == ("2%", 20)
    assert (after.rate_text, after.tax) == ("2.5%", 25)
    assert tax_rule(on=date(2030, 6, 1), rules=rules) is LATER
    crossing = withholding_for(
        kind=INDIVIDUAL,
        has_npwp=True,
        gross=40_000_000,
        gross_earlier_this_year=180_000_000,
        on=date(2030, 1, 1),
        rules=rules,
    )
    # Base 90M to 110M: 10M at 10% and 10M at 20%
    assert (crossing.rate_text, crossing.tax) == ("10%/20% on 50%", 3_000_000)


def test_a_day_before_the_first_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="2021-12-31"):
        tax_rule(on=date(2021, 12, 31))
    with pytest.raises(ValueError):
        company(gross=1_000, on=date(2021, 12, 31))


# --- Refused input ----------------------------------------------------------------------------------------------------


def test_the_kinds_are_the_partner_model_s() -> None:
    assert (PartnerKind.COMPANY.value, PartnerKind.INDIVIDUAL.value) == (COMPANY, INDIVIDUAL)


@pytest.mark.parametrize(
    ("kind", "gross", "earlier", "error"),
    [
        ("foundation", 1_000, 0, ValueError),
        (COMPANY, 1_000.0, 0, TypeError),
        (COMPANY, True, 0, TypeError),
        (INDIVIDUAL, 1_000, "0", TypeError),
    ],
)
def test_bad_input_is_refused(kind: str, gross: object, earlier: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        withholding_for(kind=kind, has_npwp=True, gross=gross, gross_earlier_this_year=earlier, on=ON)  # type: ignore[arg-type]


# --- Properties ---------------------------------------------------------------------------------------------------

RUPIAH = st.integers(min_value=0, max_value=10**13)


@given(kind=st.sampled_from([COMPANY, INDIVIDUAL]), has_npwp=st.booleans(), gross=RUPIAH, earlier=RUPIAH)
def test_the_tax_is_never_negative_nor_more_than_the_gross(
    kind: str, has_npwp: bool, gross: int, earlier: int
) -> None:
    line = withholding_for(kind=kind, has_npwp=has_npwp, gross=gross, gross_earlier_this_year=earlier, on=ON)
    assert 0 <= line.tax <= gross
    assert line.net + line.tax == gross


@given(kind=st.sampled_from([COMPANY, INDIVIDUAL]), has_npwp=st.booleans(), gross=RUPIAH, earlier=RUPIAH)
def test_a_clawback_mirrors_its_line(kind: str, has_npwp: bool, gross: int, earlier: int) -> None:
    # Given a line, when it is clawed back with the year's gross including it, then every figure is negated
    line = withholding_for(kind=kind, has_npwp=has_npwp, gross=gross, gross_earlier_this_year=earlier, on=ON)
    clawback = withholding_for(
        kind=kind, has_npwp=has_npwp, gross=-gross, gross_earlier_this_year=earlier + gross, on=ON
    )
    assert (clawback.base, clawback.tax, clawback.net) == (-line.base, -line.tax, -line.net)
    assert clawback.rate_text == line.rate_text


@given(lines=st.lists(st.integers(min_value=0, max_value=10**11), max_size=20))
def test_a_years_pph21_is_split_across_its_lines_without_drift(lines: list[int]) -> None:
    # However a year's gross is split into lines, the bases add up to 50% of the total (so every line sits at the
    # same place in the brackets as in one line of the whole year), and the tax differs from that of one line only
    # by rounding: half a rupiah a bracket slice; the lines have at most len(lines) + 4 slices, the one line 5
    earlier, bases, taxes = 0, 0, 0
    for gross in lines:
        line = individual(gross=gross, earlier=earlier)
        earlier, bases, taxes = earlier + gross, bases + line.base, taxes + line.tax
    assert bases == percent_of(amount=earlier, rate_percent=50)
    assert abs(taxes - individual(gross=earlier).tax) <= (len(lines) + 4 + 5) / 2


# --- The statuses and their moves ------------------------------------------------------------------------------------------


def test_the_nine_statuses_are_exactly_the_article_s() -> None:
    with translation.override("en"):
        assert [str(label) for label in S.labels] == [
            "No Status",
            "In Tax Review",
            "Tax Rejected",
            "Awaiting Granted",
            "Commission Rejected",
            "Commission Granted",
            "In Disbursement",
            "Paid",
            "Failed",
        ]
    assert S.values == [
        "no_status",
        "in_tax_review",
        "tax_rejected",
        "awaiting_granted",
        "commission_rejected",
        "commission_granted",
        "in_disbursement",
        "paid",
        "failed",
    ]


EXPECTED_MOVES = {
    ("no_status", "in_tax_review"),
    ("in_tax_review", "awaiting_granted"),
    ("in_tax_review", "tax_rejected"),
    ("tax_rejected", "in_tax_review"),
    ("awaiting_granted", "commission_granted"),
    ("awaiting_granted", "commission_rejected"),
    ("commission_granted", "in_disbursement"),
    ("in_disbursement", "paid"),
    ("in_disbursement", "failed"),
    ("failed", "in_disbursement"),
}


def test_every_allowed_move_passes_and_every_other_of_the_81_is_a_state_conflict() -> None:
    # Given every pair of statuses, when each move is checked, then exactly the expected ten pass
    allowed, refused = set(), set()
    with translation.override("en"):
        for current, target in product(S.values, S.values):
            try:
                move_check(current=current, target=target)
            except StateConflict as error:
                refused.add((current, target))
                message = error.messages[0]
                assert str(S(current).label) in message and str(S(target).label) in message, message
            else:
                allowed.add((current, target))
    assert allowed == EXPECTED_MOVES
    assert len(refused) == 81 - len(EXPECTED_MOVES)


def test_the_table_of_moves_agrees_with_the_expected_moves() -> None:
    pairs = {(current, target) for current, targets in ALLOWED_MOVES.items() for target in targets}
    assert pairs == EXPECTED_MOVES == set(MOVED_BY)
    assert set(ALLOWED_MOVES) == set(S.values)


def test_paid_and_commission_rejected_are_final() -> None:
    assert {status for status, targets in ALLOWED_MOVES.items() if not targets} == {
        "paid",
        "commission_rejected",
    }
    with translation.override("en"), pytest.raises(StateConflict, match="Paid, which is final"):
        move_check(current="paid", target="in_disbursement")


def test_only_the_three_month_move_is_a_job() -> None:
    assert {move for move, actor in MOVED_BY.items() if actor == JOB} == {("no_status", "in_tax_review")}
    assert set(MOVED_BY.values()) == {JOB, STAFF}


def test_the_messages_name_both_statuses() -> None:
    with translation.override("en"):
        with pytest.raises(StateConflict, match="cannot move from No Status to Paid"):
            move_check(current="no_status", target="paid")
        with pytest.raises(StateConflict, match="already Failed"):
            move_check(current="failed", target="failed")


def test_an_unknown_status_is_a_plain_validation_error_not_a_conflict() -> None:
    with pytest.raises(ValidationError) as caught:
        move_check(current="paid", target="lost")
    assert not isinstance(caught.value, StateConflict)
    with pytest.raises(ValidationError):
        move_check(current="archived", target="paid")


# --- The three-month rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subscribed_on", "payable"),
    [
        (date(2026, 1, 15), date(2026, 4, 15)),
        # A day the third month lacks is its last day
        (date(2026, 1, 31), date(2026, 4, 30)),
        (date(2026, 3, 31), date(2026, 6, 30)),
        # February in a leap year and not
        (date(2023, 11, 30), date(2024, 2, 29)),
        (date(2024, 11, 30), date(2025, 2, 28)),
        (date(2023, 11, 29), date(2024, 2, 29)),
        (date(2024, 2, 29), date(2024, 5, 29)),
        # Across the year
        (date(2025, 10, 31), date(2026, 1, 31)),
        (date(2025, 12, 31), date(2026, 3, 31)),
    ],
)
def test_a_line_is_payable_three_calendar_months_after_the_subscription(
    subscribed_on: date, payable: date
) -> None:
    assert payable_on(subscribed_on=subscribed_on) == payable
    assert not payable_from(subscribed_on=subscribed_on, today=payable - timedelta(days=1))
    assert payable_from(subscribed_on=subscribed_on, today=payable)
    assert payable_from(subscribed_on=subscribed_on, today=payable + timedelta(days=400))


@given(subscribed_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 9, 30)))
def test_payable_on_is_always_in_the_third_month_after(subscribed_on: date) -> None:
    payable = payable_on(subscribed_on=subscribed_on)
    months = (payable.year - subscribed_on.year) * 12 + payable.month - subscribed_on.month
    assert months == 3
    assert payable.day <= subscribed_on.day
    assert 89 <= (payable - subscribed_on).days <= 92
