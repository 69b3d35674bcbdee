"""Package usage: both balances with their period, the month's unique visitors and the ledger with its filters
and pages — for owners and admins; agents are refused, outsiders find nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from relasi.billing.models import BalanceKind, EntryType, LedgerEntry
from relasi.billing.services import Change, balance_change, balance_period_open
from relasi.interactions.events import events_ingest

pytestmark = pytest.mark.django_db

WA = BalanceKind.WHATSAPP


def _url(workspace_slug: str = "acme") -> str:
    return reverse("billing:package_usage", kwargs={"workspace_slug": workspace_slug})


@pytest.fixture
def usage(acme):
    """A period of 1,000,000 rupiah with 700,000 used and 1,000 visitors with 650 used."""
    today = date(2026, 12, 1)
    balance_period_open(workspace=acme, actor=None, kind=WA, starts_on=today, allowance=1_000_000, reset=True)
    balance_period_open(
        workspace=acme, actor=None, kind=BalanceKind.MUV, starts_on=today, allowance=1_000, reset=True
    )
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -700_000, reason="Promo")]
    )
    balance_change(workspace=acme, actor=None, kind=BalanceKind.MUV, changes=[Change(EntryType.USAGE, -650)])
    return acme


def test_the_owner_sees_both_balances_with_their_period_and_the_ledger(usage, alice, client_for) -> None:
    page = client_for(alice).get(_url())
    html = page.content.decode()
    assert page.status_code == 200
    # the WhatsApp card: remaining, the bar at 30% (below 40%: a warning colour), used of the period, the dates
    assert "Rp 300,000" in html
    assert 'aria-valuenow="30"' in html and "bg-warning" in html
    assert "Rp 700,000 used of Rp 1,000,000 this period" in html
    assert "Period 1 Dec 2026 – 31 Dec 2026" in html
    # the visitors card: 350 left of 1,000
    assert "650 used of 1,000 this period" in html
    # the ledger, newest first
    ledger = html[html.index('data-testid="ledger"') :]
    assert ledger.index("Promo") < ledger.index("Monthly allowance")
    assert html.count("<tr>") == 1 + 4


def test_an_admin_sees_it_an_agent_is_refused_an_outsider_finds_nothing(
    usage, dave, bob, charlie, client_for
) -> None:
    assert client_for(dave).get(_url()).status_code == 200
    refused = client_for(bob).get(_url())
    assert refused.status_code == 403
    assert "Only owners and admins can see the workspace" in refused.content.decode()
    # and the agent's menu has no billing link
    home = client_for(bob).get(reverse("customers:list", kwargs={"workspace_slug": "acme"})).content.decode()
    assert _url() not in home
    assert client_for(charlie).get(_url()).status_code == 404


def test_filters_narrow_the_ledger_and_bad_values_read_as_none(usage, alice, client_for) -> None:
    client = client_for(alice)
    whatsapp = client.get(_url(), {"balance": "whatsapp", "type": "usage"}).content.decode()
    assert whatsapp.count("<tr>") == 1 + 1 and "Promo" in whatsapp
    for hostile in (
        {"balance": "<script>"},
        {"type": "x" * 5000},
        {"older_than": "9" * 40},
        {"older_than": "-1"},
        {"older_than": "²"},
    ):
        answer = client.get(_url(), hostile)
        assert answer.status_code == 200
        assert answer.content.decode().count("<tr>") == 1 + 4


def test_the_ledger_pages_by_keyset(acme, alice, client_for) -> None:
    for number in range(30):
        balance_change(
            workspace=acme,
            actor=None,
            kind=WA,
            changes=[Change(EntryType.USAGE, -1, reason=f"debit {number:02d}")],
        )
    client = client_for(alice)
    first = client.get(_url()).content.decode()
    assert first.count("<tr>") == 1 + 25 and "debit 29" in first and "debit 04" not in first
    oldest_shown = LedgerEntry.objects.for_workspace(acme).order_by("-id")[24].pk
    assert f"older_than={oldest_shown}" in first
    second = client.get(_url(), {"older_than": oldest_shown}).content.decode()
    assert second.count("<tr>") == 1 + 5 and "debit 04" in second and "Older entries" not in second


def test_the_months_visitors_and_an_outstanding_are_said(acme, alice, client_for) -> None:
    events_ingest(
        workspace=acme,
        actor=None,
        events=[
            {"id": "c1", "type": "message", "message": {"contact": {"phone": "081200000001"}, "text": "Hi"}}
        ],
    )
    balance_change(workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -5_000)])
    html = client_for(alice).get(_url()).content.decode()
    assert "1 unique visitors counted in" in html
    assert "-Rp 5,000" in html and "outstanding, settled first by the next top-up" in html


def test_an_empty_ledger_says_so(acme, alice, client_for) -> None:
    html = client_for(alice).get(_url()).content.decode()
    assert "No change to either balance yet." in html
    assert "No period started yet." in html


def test_the_page_speaks_indonesian(usage, alice, client_for) -> None:
    html = client_for(alice).get(_url(), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    for words in (
        "Buku besar",
        "Saldo WhatsApp",
        "Rp 300.000",
        "Periode 1 Des 2026 – 31 Des 2026",
        "Kuota bulanan",
    ):
        assert words in html, words
    assert "Ledger" not in html and "this period" not in html
