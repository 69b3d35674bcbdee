"""The billing API: balances, the ledger keyset-paged, and usage reported by other systems — for owners, admins
and API keys; agents are refused, other workspaces see their own."""

from __future__ import annotations

from datetime import date

import pytest

from relasi.billing.models import BalanceKind, EntryType, LedgerEntry, MonthlyVisitor
from relasi.billing.selectors import balances_of
from relasi.billing.services import Change, balance_change, balance_period_open
from relasi.customers.services import customer_create

pytestmark = pytest.mark.django_db

WA = BalanceKind.WHATSAPP


@pytest.fixture
def period(acme):
    balance_period_open(
        workspace=acme, actor=None, kind=WA, starts_on=date(2026, 12, 1), allowance=1_000_000, reset=True
    )
    balance_change(
        workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -650_000, reason="Promo")]
    )
    return acme


def test_balances_for_keys_owners_and_admins_not_agents(
    period, alice, dave, bob, client_for, acme_key, globex_key, client
) -> None:
    answer = client.get("/api/v1/balances", **acme_key)
    assert answer.status_code == 200
    assert answer.json()["whatsapp"] == {
        "kind": "whatsapp",
        "remaining": 350_000,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "period_total": 1_000_000,
        "used": 650_000,
        "remaining_percent": 35,
        "low": True,
    }
    for member in (alice, dave):
        assert client_for(member).get("/api/v1/balances", HTTP_X_WORKSPACE="acme").status_code == 200
    refused = client_for(bob).get("/api/v1/balances", HTTP_X_WORKSPACE="acme")
    assert refused.status_code == 403
    # another workspace's key reads its own, untouched balances
    assert client.get("/api/v1/balances", **globex_key).json()["whatsapp"]["remaining"] == 0


def test_the_ledger_pages_with_cursors_and_filters(acme, client, acme_key) -> None:
    for number in range(5):
        balance_change(
            workspace=acme, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -1, reason=f"d{number}")]
        )
    balance_change(workspace=acme, actor=None, kind=BalanceKind.MUV, changes=[Change(EntryType.USAGE, -1)])
    first = client.get("/api/v1/ledger-entries", {"balance": "whatsapp", "limit": 3}, **acme_key).json()
    assert [item["reason"] for item in first["items"]] == ["d4", "d3", "d2"]
    second = client.get(
        "/api/v1/ledger-entries",
        {"balance": "whatsapp", "limit": 3, "cursor": first["next_cursor"]},
        **acme_key,
    ).json()
    assert [item["reason"] for item in second["items"]] == ["d1", "d0"] and second["next_cursor"] is None
    # a cursor of another filter, a made-up one, and an unknown balance are refused
    assert (
        client.get("/api/v1/ledger-entries", {"cursor": first["next_cursor"]}, **acme_key).status_code == 400
    )
    assert client.get("/api/v1/ledger-entries", {"cursor": "x" * 50}, **acme_key).status_code == 400
    assert client.get("/api/v1/ledger-entries", {"balance": "gold"}, **acme_key).status_code == 400


def test_a_visitor_counts_once_a_month(acme, alice, client, acme_key) -> None:
    budi = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi"})
    event = {"id": "v-1", "type": "visitor", "customer_id": budi.pk, "at": "2026-12-05T10:00:00+07:00"}
    assert (
        client.post("/api/v1/usage-events", event, content_type="application/json", **acme_key).status_code
        == 201
    )
    again = {**event, "id": "v-2", "at": "2026-12-20T10:00:00+07:00"}
    answer = client.post("/api/v1/usage-events", again, content_type="application/json", **acme_key)
    assert (answer.status_code, answer.json()) == (200, {"id": "v-2", "status": "duplicate"})
    assert MonthlyVisitor.objects.for_workspace(acme).count() == 1
    assert balances_of(workspace=acme)["muv"].amount == -1


def test_a_whatsapp_message_debits_its_price_once_per_event_id(acme, client, acme_key) -> None:
    event = {
        "id": "w-1",
        "type": "whatsapp_message",
        "category": "utility",
        "at": "2026-12-05T10:00:00+07:00",
    }
    first = client.post("/api/v1/usage-events", event, content_type="application/json", **acme_key)
    repeat = client.post("/api/v1/usage-events", event, content_type="application/json", **acme_key)
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert balances_of(workspace=acme)[WA].amount == -357
    assert LedgerEntry.objects.for_workspace(acme).get().reference == "wa:api:w-1"


@pytest.mark.parametrize(
    "event",
    [
        {"id": "x", "type": "visitor"},
        {"id": "x", "type": "whatsapp_message"},
        {"id": "x", "type": "whatsapp_message", "category": "gold"},
        {"id": "x", "type": "refund"},
        {"id": "", "type": "visitor", "customer_id": 1},
        {"id": "x" * 500, "type": "visitor", "customer_id": 1},
        {"id": "x", "type": "visitor", "customer_id": 1, "at": "2026-02-30T10:00:00+07:00"},
        {"id": "x", "type": "visitor", "customer_id": 1, "at": '\r"'},
        {"id": "x", "type": "visitor", "customer_id": 1, "colour": "red"},
        {"id": "x", "type": "visitor", "customer_id": 10**30},
    ],
)
def test_a_bad_usage_event_is_a_422_and_changes_nothing(acme, client, acme_key, event) -> None:
    answer = client.post("/api/v1/usage-events", event, content_type="application/json", **acme_key)
    assert answer.status_code == 422, answer.content
    assert LedgerEntry.objects.for_workspace(acme).count() == 0
    assert MonthlyVisitor.objects.for_workspace(acme).count() == 0


def test_an_agent_cannot_report_usage(acme, bob, client_for) -> None:
    answer = client_for(bob).post(
        "/api/v1/usage-events",
        {"id": "w-1", "type": "whatsapp_message", "category": "utility"},
        content_type="application/json",
        HTTP_X_WORKSPACE="acme",
    )
    assert answer.status_code == 403
    assert LedgerEntry.objects.for_workspace(acme).count() == 0
