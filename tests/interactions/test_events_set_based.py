"""The set-based path of the event API writes what the event-by-event path writes: the same batches applied both
ways, into two workspaces that start alike, leave the same customers, identities, claims, conversations, messages,
audit rows and timeline lines, and answer the same results. A batch of new contacts and messages costs a few
queries, not a few per event."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relasi.customers.models import Customer, TimelineEntry
from relasi.interactions.events import events_ingest
from relasi.interactions.models import Conversation, Message
from relasi.tenancy.models import Workspace
from relasi.tenancy.services import workspace_create
from tests.interactions.ingestion_state import ingestion_state, ranks

pytestmark = pytest.mark.django_db

PHONES = ["+6281200000001", "081200000002", "+6281200000003", "6281200000004", "0", "08888888888"]
EMAILS = ["a@example.com", "B@Example.com ", "c@example.com", "null"]
WHATSAPP_IDS = ["ID.1", "ID.2", "ID.3", "ID.4"]
USERNAMES = ["budi", "sari"]
NAMES = ["Budi", "Sari", "Ayu", None]
TIMES = ["2026-11-28T10:00:00+07:00", "2026-11-28T11:00:00+07:00", "2026-11-29T09:30:00+07:00"]


# Calm batches: people who always send the same identifiers (a phone, or an email alone), sometimes with their
# WhatsApp id and username: new customers, known ones, new identities, redelivered messages; rarely a clash.
PEOPLE = [
    {"full_name": "Budi", "phone": PHONES[0]},
    {"full_name": "Ayu", "phone": PHONES[2]},
    {"phone": PHONES[1], "identities": [{"channel": "whatsapp", "external_id": "ID.7", "username": "tono"}]},
    {"full_name": "Dewi", "phone": PHONES[3]},
    {"full_name": "Eka", "phone": "+6281200000009"},
    {"email": EMAILS[2]},
    {"full_name": "Fajar", "email": "fajar@example.com"},
]


def _calm_contact(rng: random.Random) -> dict[str, Any]:
    contact = dict(rng.choice(PEOPLE))
    if "identities" in contact and rng.random() < 0.5:
        del contact["identities"]
    return contact


def _contact(rng: random.Random, calm: bool = False) -> dict[str, Any]:
    if calm:
        return _calm_contact(rng)
    contact: dict[str, Any] = {}
    if rng.random() < 0.7:
        contact["phone"] = rng.choice(PHONES)
    if rng.random() < 0.3:
        contact["email"] = rng.choice(EMAILS)
    if rng.random() < 0.4:
        identity: dict[str, Any] = {"channel": "whatsapp", "external_id": rng.choice(WHATSAPP_IDS)}
        if rng.random() < 0.3:
            identity["username"] = rng.choice(USERNAMES)
        contact["identities"] = [identity]
    name = rng.choice(NAMES)
    if name is not None:
        contact["full_name"] = name
    if not contact:
        contact["phone"] = PHONES[0]
    if rng.random() < 0.04:
        contact["fax"] = "1"  # an unknown field: the event is rejected
    return contact


def _event(rng: random.Random, number: int, calm: bool) -> dict[str, Any]:
    if rng.random() < 0.4:
        return {"id": f"e{number}", "type": "contact", "contact": _contact(rng, calm)}
    message: dict[str, Any] = {
        "contact": _contact(rng, calm),
        "channel": rng.choice(["whatsapp", "whatsapp", "instagram"]),
        "direction": rng.choice(["inbound", "inbound", "outbound"]),
        "text": f"Halo {number}",
        "sent_at": rng.choice(TIMES),
    }
    if rng.random() < 0.7:
        message["provider_message_id"] = f"wamid.{rng.randrange(12)}"
    if rng.random() < 0.2:
        message["conversation"] = f"chat.{rng.randrange(3)}"
    return {"id": f"e{number}", "type": "message", "message": message}


def _setup(workspace: Workspace) -> None:
    """What both workspaces hold before the batches: known customers, identities, a chat and a message."""
    events_ingest(
        workspace=workspace,
        actor=None,
        set_based=False,
        events=[
            {"id": "s1", "type": "contact", "contact": {"full_name": "Budi", "phone": PHONES[0]}},
            {
                "id": "s2",
                "type": "contact",
                "contact": {
                    "full_name": "Sari",
                    "email": EMAILS[0],
                    "identities": [{"channel": "whatsapp", "external_id": WHATSAPP_IDS[1]}],
                },
            },
            {
                "id": "s3",
                "type": "message",
                "message": {
                    "contact": {"full_name": "Ayu", "phone": PHONES[2]},
                    "channel": "whatsapp",
                    "conversation": "chat.0",
                    "provider_message_id": "wamid.0",
                    "text": "first",
                    "sent_at": TIMES[0],
                },
            },
        ],
    )


def _answers(results: list[Any], workspace: Workspace) -> list[tuple[Any, ...]]:
    customer_rank = ranks(Customer.objects.for_workspace(workspace))
    conversation_rank = ranks(Conversation.objects.for_workspace(workspace))
    return [
        (
            result.id,
            result.status,
            customer_rank.get(result.customer_id),
            conversation_rank.get(result.record_id),
            result.errors,
        )
        for result in results
    ]


@pytest.mark.parametrize("calm", [True, False], ids=["calm", "clashing"])
@pytest.mark.parametrize("seed", range(20))
def test_the_set_based_path_writes_what_the_event_by_event_path_writes(alice, seed: int, calm: bool) -> None:
    # given two workspaces holding the same customers, and three random batches of contacts and messages drawn
    # from a few phones, emails, ids, chats and provider ids (so that they meet, repeat and, unless calm, clash:
    # clashing batches are mostly left to the event-by-event path, calm ones mostly taken by the set-based one)
    set_based = workspace_create(name="Set", slug=f"set-{seed}-{calm:d}", owner=alice, actor=alice)
    one_by_one = workspace_create(name="One", slug=f"one-{seed}-{calm:d}", owner=alice, actor=alice)
    _setup(set_based)
    _setup(one_by_one)
    rng = random.Random(seed)
    batches = [
        [_event(rng, batch * 100 + number, calm) for number in range(rng.randrange(1, 25))]
        for batch in range(3)
    ]
    # when each batch is applied both ways
    for batch in batches:
        fast = events_ingest(workspace=set_based, actor=alice, events=batch)
        slow = events_ingest(workspace=one_by_one, actor=alice, events=batch, set_based=False)
        # then the answers are the same, and so is everything written
        assert _answers(fast, set_based) == _answers(slow, one_by_one)
    assert ingestion_state(set_based) == ingestion_state(one_by_one)


def test_a_batch_of_new_contacts_and_their_messages_costs_a_few_queries(alice) -> None:
    # given a workspace, and a batch of 25 new contacts each followed by a message from them
    workspace = workspace_create(name="Acme", slug="acme-bulk", owner=alice, actor=alice)
    events: list[dict[str, Any]] = []
    for number in range(25):
        contact = {"full_name": f"Orang {number}", "phone": f"+62813000{number:05d}"}
        events.append({"id": f"c{number}", "type": "contact", "contact": contact})
        events.append(
            {
                "id": f"m{number}",
                "type": "message",
                "message": {"contact": contact, "channel": "whatsapp", "provider_message_id": f"w.{number}"},
            }
        )
    # when it is applied
    with CaptureQueriesContext(connection) as queries:
        results = events_ingest(workspace=workspace, actor=alice, events=events)
    # then every event is applied, with one insert per table instead of several statements per event: about 17
    # for ingestion and 10 for billing's metering (the month's visitors inserted, the balance made and locked, its
    # ledger entry in a savepoint, the balance saved)
    assert [result.status for result in results] == ["created"] * 50
    assert len(queries.captured_queries) <= 30
    assert Customer.objects.for_workspace(workspace).count() == 25
    assert Message.objects.for_workspace(workspace).count() == 25
    assert TimelineEntry.objects.for_workspace(workspace).filter(action="message.received").count() == 25
