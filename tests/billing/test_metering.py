"""Metering from the CDP: a customer's first inbound message of a month (in the workspace's time zone) counts one
unique visitor, however many messages and whichever way they came in; a billable WhatsApp message debits its
category's price once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relasi.billing.models import BalanceKind, MonthlyVisitor
from relasi.billing.selectors import balances_of, ledger_entries
from relasi.interactions.channels import webhook_event_receive, whatsapp_channel_add
from relasi.interactions.events import events_ingest

pytestmark = pytest.mark.django_db


def _message(number: int, *, phone: str, at: str, direction: str = "inbound") -> dict[str, Any]:
    return {
        "id": f"m{number}",
        "type": "message",
        "message": {
            "contact": {"phone": phone},
            "channel": "whatsapp",
            "direction": direction,
            "text": f"Halo {number}",
            "sent_at": at,
            "provider_message_id": f"wamid.{number}",
        },
    }


def _muv(workspace) -> list[tuple[str, int, str]]:
    return [
        (entry.entry_type, entry.amount, entry.reason)
        for entry in ledger_entries(workspace=workspace, kind=BalanceKind.MUV).order_by("id")
    ]


@pytest.mark.parametrize("set_based", [True, False], ids=["together", "one-by-one"])
def test_one_unique_visitor_per_customer_and_month_whatever_the_number_of_messages(acme, set_based) -> None:
    # given three inbound messages and an outbound one of Budi in November, and one of Sari
    november = [
        _message(1, phone="081200000001", at="2026-11-10T09:00:00+07:00"),
        _message(2, phone="081200000001", at="2026-11-11T09:00:00+07:00"),
        _message(3, phone="081200000001", at="2026-11-12T09:00:00+07:00", direction="outbound"),
        _message(4, phone="081200000002", at="2026-11-12T10:00:00+07:00"),
    ]
    # when they arrive, and later one more of Budi's in November and one in December
    events_ingest(workspace=acme, actor=None, events=november, set_based=set_based)
    events_ingest(
        workspace=acme,
        actor=None,
        events=[
            _message(5, phone="081200000001", at="2026-11-30T21:00:00+07:00"),
            _message(6, phone="081200000001", at="2026-12-01T08:00:00+07:00"),
        ],
        set_based=set_based,
    )
    # then November counted two visitors once, December one (in one entry per batch and month, or one per event)
    per_month: dict[str, int] = {}
    for entry_type, amount, reason in _muv(acme):
        assert entry_type == "usage"
        per_month[reason[-7:]] = per_month.get(reason[-7:], 0) + amount
    assert per_month == {"2026-11": -2, "2026-12": -1}
    assert balances_of(workspace=acme)[BalanceKind.MUV].amount == -3
    assert MonthlyVisitor.objects.for_workspace(acme).count() == 3


def test_the_month_is_the_workspaces_own(acme, globex) -> None:
    # given acme in Jakarta (UTC+7) and globex in Jayapura (UTC+9)
    globex.time_zone = "Asia/Jayapura"
    globex.save(update_fields=["time_zone"])
    # when each gets a message at 30 November, 16:30 UTC (23:30 in Jakarta, 01:30 on 1 December in Jayapura)
    for workspace in (acme, globex):
        events_ingest(
            workspace=workspace,
            actor=None,
            events=[_message(1, phone="081200000001", at="2026-11-30T16:30:00+00:00")],
        )
    # then acme counts it in November, globex in December
    assert [
        month.month for month in MonthlyVisitor.objects.for_workspace(acme).values_list("month", flat=True)
    ] == [11]
    assert [
        month.month for month in MonthlyVisitor.objects.for_workspace(globex).values_list("month", flat=True)
    ] == [12]


def _status_payload(channel, *, message_id: str, status: str, category: str, billable: bool) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": channel.phone_number_id},
        "statuses": [
            {
                "id": message_id,
                "status": status,
                "timestamp": "1795836100",
                "recipient_id": "6281298765432",
                "pricing": {"billable": billable, "pricing_model": "PMP", "category": category},
            }
        ],
    }
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}
    ).encode()


def test_a_billable_whatsapp_message_is_debited_once_at_its_categorys_price(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    # given a connected number
    channel = whatsapp_channel_add(
        workspace=acme, actor=alice, phone_number_id="106540352242922", app_secret="s", verify_token="v"
    )
    # when a marketing message is sent, delivered and read (each status carrying its pricing), a service reply and
    # a message Meta does not bill arrive
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("sent", "delivered", "read"):
            webhook_event_receive(
                channel=channel,
                body=_status_payload(
                    channel, message_id="wamid.M", status=status, category="marketing", billable=True
                ),
            )
        webhook_event_receive(
            channel=channel,
            body=_status_payload(
                channel, message_id="wamid.S", status="sent", category="service", billable=False
            ),
        )
        webhook_event_receive(
            channel=channel,
            body=_status_payload(
                channel, message_id="wamid.F", status="sent", category="utility", billable=False
            ),
        )
    # then the marketing message cost its price once
    entries = list(ledger_entries(workspace=acme, kind=BalanceKind.WHATSAPP))
    assert [(entry.amount, entry.reference, entry.reason) for entry in entries] == [
        (-586, "wa:wamid.M", "WhatsApp marketing")
    ]
    assert balances_of(workspace=acme)[BalanceKind.WHATSAPP].amount == -586


def test_a_webhook_message_counts_its_sender_as_a_visitor(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    channel = whatsapp_channel_add(
        workspace=acme, actor=alice, phone_number_id="106540352242922", app_secret="s", verify_token="v"
    )
    value = {
        "metadata": {"phone_number_id": channel.phone_number_id},
        "contacts": [{"profile": {"name": "Budi"}, "user_id": "ID.1", "wa_id": "6281298765432"}],
        "messages": [
            {
                "from": "6281298765432",
                "from_user_id": "ID.1",
                "id": f"wamid.{n}",
                "timestamp": str(1795836000 + n),
                "type": "text",
                "text": {"body": "Halo"},
            }
            for n in range(3)
        ],
    }
    body = json.dumps({"entry": [{"changes": [{"value": value}]}]}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_receive(channel=channel, body=body)
    assert _muv(acme) == [("usage", -1, "1 unique visitor(s), 2026-11")]
