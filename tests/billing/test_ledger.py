"""Balances as an append-only ledger: every change an entry with the balance after it, once per reference; the
outstanding settled first by a top-up; periods; entries that never change; `relasi billing check`."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relasi.billing.checks import ledger_drifts
from relasi.billing.models import Balance, BalanceKind, EntryType, LedgerEntry, LedgerImmutable
from relasi.billing.selectors import balances_of, ledger_entries
from relasi.billing.services import (
    AMOUNT_LIMIT,
    Change,
    balance_change,
    balance_period_open,
    balance_top_up,
    top_up_split,
)

pytestmark = pytest.mark.django_db

WA = BalanceKind.WHATSAPP


def _entries(workspace, kind=WA) -> list[tuple[str, int, int]]:
    return [
        (entry.entry_type, entry.amount, entry.balance_after)
        for entry in ledger_entries(workspace=workspace, kind=kind).order_by("id")
    ]


def test_each_change_is_an_entry_carrying_the_balance_after_it(acme, alice) -> None:
    # given an empty WhatsApp balance
    # when it gets an allowance and two usage debits
    balance_change(
        workspace=acme,
        actor=alice,
        kind=WA,
        changes=[Change(EntryType.ALLOWANCE, 100_000)],
        reference="period:2026-12-01",
    )
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -650)], reference="wamid.1"
    )
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -650)], reference="wamid.2"
    )
    # then the ledger holds three entries, each with the balance after it, and the balance is their sum
    assert _entries(acme) == [
        ("allowance", 100_000, 100_000),
        ("usage", -650, 99_350),
        ("usage", -650, 98_700),
    ]
    assert balances_of(workspace=acme)[WA].amount == 98_700
    assert balances_of(workspace=acme)[WA].period_total == 100_000
    assert ledger_drifts() == []


def test_a_reference_applies_once(acme) -> None:
    # given a debit for a message
    first = balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -650)], reference="m1"
    )
    # when the same message is debited again
    again = balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -650)], reference="m1"
    )
    # then nothing more is written
    assert (len(first), again) == (1, [])
    assert balances_of(workspace=acme)[WA].amount == -650
    assert LedgerEntry.objects.for_workspace(acme).count() == 1


def test_a_top_up_settles_the_outstanding_first(acme, alice) -> None:
    # given IDR 5,000 outstanding
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -5_000)], reference="m"
    )
    # when IDR 1,000,000 is topped up
    entries = balance_top_up(workspace=acme, actor=alice, kind=WA, amount=1_000_000, reference="pay-1")
    # then 5,000 settles it and 995,000 is added
    assert [(entry.entry_type, entry.amount, entry.balance_after) for entry in entries] == [
        ("settlement", 5_000, 0),
        ("top_up", 995_000, 995_000),
    ]
    assert top_up_split(balance=-5_000, amount=1_000_000) == (5_000, 995_000)
    assert balances_of(workspace=acme)[WA].amount == 995_000
    # and the same payment credited again changes nothing
    assert balance_top_up(workspace=acme, actor=alice, kind=WA, amount=1_000_000, reference="pay-1") == []
    assert balances_of(workspace=acme)[WA].amount == 995_000


def test_a_payment_repeated_when_the_balance_is_in_another_state_credits_nothing(acme) -> None:
    # given a payment credited while the balance was not owed anything
    balance_top_up(workspace=acme, actor=None, kind=WA, amount=1_000_000, reference="pay-3")
    # and usage since that left IDR 2,000 outstanding
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -1_002_000)], reference="m"
    )
    # when the payment's callback comes again (it would now settle the outstanding first)
    again = balance_top_up(workspace=acme, actor=None, kind=WA, amount=1_000_000, reference="pay-3")
    # then nothing is credited: the payment counted once
    assert again == []
    assert balances_of(workspace=acme)[WA].amount == -2_000


def test_a_top_up_smaller_than_the_outstanding_only_settles(acme) -> None:
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -7_000)], reference="m"
    )
    entries = balance_top_up(workspace=acme, actor=None, kind=WA, amount=5_000, reference="pay-2")
    assert [(entry.entry_type, entry.amount, entry.balance_after) for entry in entries] == [
        ("settlement", 5_000, -2_000)
    ]


def test_a_period_with_reset_lapses_what_remains_and_adds_the_allowance_once(acme) -> None:
    # given 300 unique visitors left of a period
    muv = BalanceKind.MUV
    balance_period_open(
        workspace=acme, actor=None, kind=muv, starts_on=date(2026, 11, 1), allowance=1_000, reset=True
    )
    balance_change(
        workspace=acme, actor=None, kind=muv, changes=[Change(EntryType.USAGE, -700)], reference="c:1:2026-11"
    )
    # when December starts (twice: a repeated job)
    balance_period_open(
        workspace=acme, actor=None, kind=muv, starts_on=date(2026, 12, 1), allowance=1_000, reset=True
    )
    again = balance_period_open(
        workspace=acme, actor=None, kind=muv, starts_on=date(2026, 12, 1), allowance=1_000, reset=True
    )
    # then the 300 lapsed and the allowance came once
    assert again == []
    assert _entries(acme, muv) == [
        ("allowance", 1_000, 1_000),
        ("usage", -700, 300),
        ("reset", -300, 0),
        ("allowance", 1_000, 1_000),
    ]
    balance = balances_of(workspace=acme)[muv]
    assert (balance.amount, balance.period_start, balance.period_total) == (1_000, date(2026, 12, 1), 1_000)


def test_an_outstanding_is_not_reset_away(acme) -> None:
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -2_000)], reference="m"
    )
    balance_period_open(
        workspace=acme, actor=None, kind=WA, starts_on=date(2026, 12, 1), allowance=50_000, reset=True
    )
    assert _entries(acme) == [("usage", -2_000, -2_000), ("allowance", 50_000, 48_000)]


@pytest.mark.parametrize(
    "change",
    [
        Change(EntryType.USAGE, AMOUNT_LIMIT + 1),
        Change(EntryType.USAGE, 10**40),
        Change("gift", 5),
        Change(EntryType.ADJUSTMENT, 5_000, reason="  "),
        Change(EntryType.USAGE, -5, reason="x" * 301),
        Change(EntryType.USAGE, -5, reason="a\x00b"),
    ],
)
def test_a_bad_change_is_refused_and_nothing_changes(acme, change: Change) -> None:
    with pytest.raises(ValidationError):
        balance_change(workspace=acme, actor=None, kind=WA, changes=[change])
    assert LedgerEntry.objects.for_workspace(acme).count() == 0
    assert Balance.objects.for_workspace(acme).count() == 0


def test_an_entry_is_never_changed_nor_deleted(acme) -> None:
    [entry] = balance_change(workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -650)])
    entry.amount = 0
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    # and the database refuses an UPDATE from anywhere
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.for_workspace(acme).update(amount=0)
    assert LedgerEntry.objects.for_workspace(acme).get().amount == -650


def test_each_workspace_sees_its_own_balances(acme, globex) -> None:
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.TOP_UP, 9_000)], reference="p"
    )
    assert balances_of(workspace=globex)[WA].amount == 0
    assert ledger_entries(workspace=globex).count() == 0


def test_billing_check_exits_non_zero_on_drift(acme, capsys) -> None:
    # given a balance proven by its ledger
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.TOP_UP, 9_000)], reference="p"
    )
    call_command("billing", "check")
    assert "Every balance equals" in capsys.readouterr().out
    # when the balance row is changed behind the ledger's back
    Balance.objects.for_workspace(acme).filter(kind=WA).update(amount=10_000)
    # then the check names it and fails
    with pytest.raises(CommandError):
        call_command("billing", "check")
    assert f"workspace {acme.pk} whatsapp: balance 10000, ledger sum 9000" in capsys.readouterr().err


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("usage"), st.integers(min_value=1, max_value=5_000_000)),
        st.tuples(st.just("top_up"), st.integers(min_value=1, max_value=5_000_000)),
        st.tuples(st.just("allowance"), st.integers(min_value=0, max_value=5_000_000)),
        st.tuples(st.just("reset"), st.booleans()),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_sequence_keeps_the_balance_equal_to_its_ledger(acme, operations) -> None:
    # given a fresh WhatsApp balance (the previous example's entries are rolled back with it)
    with transaction.atomic():
        expected = 0
        for number, (operation, value) in enumerate(operations):
            if operation == "usage":
                balance_change(
                    workspace=acme,
                    actor=None,
                    kind=WA,
                    changes=[Change(EntryType.USAGE, -value)],
                    reference=f"u{number}",
                )
                expected -= value
            elif operation == "top_up":
                settled, added = top_up_split(balance=expected, amount=value)
                entries = balance_top_up(
                    workspace=acme, actor=None, kind=WA, amount=value, reference=f"t{number}"
                )
                # the outstanding is settled first, the rest added
                assert [entry.amount for entry in entries] == [part for part in (settled, added) if part]
                expected += value
            elif operation == "allowance":
                balance_change(
                    workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.ALLOWANCE, value)]
                )
                expected += value
            else:
                balance_period_open(
                    workspace=acme,
                    actor=None,
                    kind=WA,
                    starts_on=date(2000 + number, 1, 1),
                    allowance=0,
                    reset=value,
                )
                if value and expected > 0:
                    expected = 0
            # then after every step the balance is what the rules say and equals the sum of its entries
            assert balances_of(workspace=acme)[WA].amount == expected
            assert ledger_drifts() == []
        transaction.set_rollback(True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between threads need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_and_a_repeated_payment_are_counted_exactly(acme) -> None:
    # given 8 threads, each debiting 25 messages and crediting the same payment
    def work(number: int) -> None:
        try:
            for message in range(25):
                balance_change(
                    workspace=acme,
                    actor=None,
                    kind=WA,
                    changes=[Change(EntryType.USAGE, -100)],
                    reference=f"t{number}.m{message}",
                )
            balance_top_up(workspace=acme, actor=None, kind=WA, amount=1_000_000, reference="pay-same")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    # when they run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every debit counted once and the payment once
    assert balances_of(workspace=acme)[WA].amount == 1_000_000 - 8 * 25 * 100
    assert LedgerEntry.objects.for_workspace(acme).filter(reference="pay-same").count() == 1
    assert ledger_drifts() == []
