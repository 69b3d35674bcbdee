"""POST /api/v1/events: a batch of events, each applied once per client event id and answered on its own."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from relasi.customers.models import ChannelIdentity, Customer
from relasi.interactions.events import events_ingest
from relasi.interactions.models import Conversation, IngestedEvent, Message, Ticket, TicketCustomer

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def _send(client, headers: dict[str, str], events: Any) -> Any:
    return client.post(URL, data={"events": events}, content_type="application/json", **headers)


def test_a_batch_with_good_bad_and_duplicate_events_answers_each(acme, client, acme_key) -> None:
    # given a batch: a new contact, a bad contact, a message from the first contact, the first contact again under
    # the same id, a ticket with an unknown field, a ticket, and a conversation status change
    events = [
        {
            "id": "c-1",
            "type": "contact",
            "contact": {
                "full_name": "Budi Santoso",
                "phone": "0812 9876 5432",
                "identities": [{"channel": "instagram", "external_id": "1784"}],
            },
        },
        {"id": "c-2", "type": "contact", "contact": {"identities": [{"channel": "fax", "external_id": "9"}]}},
        {
            "id": "m-1",
            "type": "message",
            "message": {
                "contact": {"phone": "+6281298765432"},
                "channel": "whatsapp",
                "text": "Halo",
                "provider_message_id": "wamid.M1",
                "sent_at": "2026-11-28T10:00:00+07:00",
            },
        },
        {"id": "c-1", "type": "contact", "contact": {"full_name": "Someone Else", "phone": "0811 0000 1111"}},
        {"id": "t-1", "type": "ticket", "ticket": {"title": "Refund", "colour": "red"}},
        {
            "id": "t-2",
            "type": "ticket",
            "ticket": {"title": "Refund", "priority": "high", "contact": {"phone": "081298765432"}},
        },
        {
            "id": "s-1",
            "type": "conversation_status",
            "conversation_status": {"channel": "whatsapp", "conversation": "nope", "status": "resolved"},
        },
        "not an object",
    ]
    # when it is sent with the workspace's key
    response = _send(client, acme_key, events)
    # then each event has its own answer
    assert response.status_code == 200
    results = response.json()["results"]
    budi = Customer.objects.for_workspace(acme).get(phone="+6281298765432")
    conversation = Conversation.objects.for_workspace(acme).get()
    ticket = Ticket.objects.for_workspace(acme).get()
    assert results == [
        {"id": "c-1", "status": "created", "customer_id": budi.pk, "record_id": None, "errors": {}},
        {
            "id": "c-2",
            "status": "rejected",
            "customer_id": None,
            "record_id": None,
            "errors": {
                "contact.channel": [
                    "Unknown channel: use one of whatsapp, instagram, facebook, telegram, line, "
                    "livechat, email, tiktok, other."
                ]
            },
        },
        {
            "id": "m-1",
            "status": "created",
            "customer_id": budi.pk,
            "record_id": conversation.pk,
            "errors": {},
        },
        {"id": "c-1", "status": "duplicate", "customer_id": budi.pk, "record_id": None, "errors": {}},
        {
            "id": "t-1",
            "status": "rejected",
            "customer_id": None,
            "record_id": None,
            "errors": {"ticket.colour": ["There is no such field."]},
        },
        {"id": "t-2", "status": "created", "customer_id": budi.pk, "record_id": ticket.pk, "errors": {}},
        {
            "id": "s-1",
            "status": "rejected",
            "customer_id": None,
            "record_id": None,
            "errors": {"conversation_status.conversation": ["No such conversation in this workspace."]},
        },
        {
            "id": "#7",
            "status": "rejected",
            "customer_id": None,
            "record_id": None,
            "errors": {"__all__": ["Send each event as an object."]},
        },
    ]
    # and nothing of the good ones is lost, nothing of the bad ones stored
    assert Customer.objects.for_workspace(acme).count() == 1
    assert budi.full_name == "Budi Santoso"
    assert list(ChannelIdentity.objects.for_workspace(acme).values_list("channel", "external_id")) == [
        ("instagram", "1784")
    ]
    assert list(Message.objects.for_workspace(acme).values_list("text", "provider_message_id")) == [
        ("Halo", "wamid.M1")
    ]
    assert (ticket.title, ticket.priority) == ("Refund", "high")
    assert TicketCustomer.objects.for_workspace(acme).filter(record=ticket, customer=budi).exists()
    assert sorted(IngestedEvent.objects.for_workspace(acme).values_list("client_event_id", flat=True)) == [
        "c-1",
        "m-1",
        "t-2",
    ]


def test_the_same_batch_again_is_all_duplicates_and_changes_nothing(acme, client, acme_key) -> None:
    events = [
        {"id": "c-1", "type": "contact", "contact": {"full_name": "Budi", "email": "budi@toko.co.id"}},
        {
            "id": "m-1",
            "type": "message",
            "message": {"contact": {"email": "budi@toko.co.id"}, "channel": "email", "text": "Pesanan saya?"},
        },
    ]
    first = _send(client, acme_key, events).json()["results"]
    # when the client retries the whole batch
    second = _send(client, acme_key, events).json()["results"]
    # then every event is a duplicate with the same customer and record
    assert [result["status"] for result in first] == ["created", "created"]
    assert [(r["status"], r["customer_id"], r["record_id"]) for r in second] == [
        ("duplicate", first[0]["customer_id"], None),
        ("duplicate", first[1]["customer_id"], first[1]["record_id"]),
    ]
    assert Message.objects.for_workspace(acme).count() == 1


def test_a_rejected_event_can_be_sent_again_corrected_with_the_same_id(acme, client, acme_key) -> None:
    bad = _send(client, acme_key, [{"id": "d-1", "type": "deal", "deal": {"name": "Grosir", "amount": -5}}])
    good = _send(
        client, acme_key, [{"id": "d-1", "type": "deal", "deal": {"name": "Grosir", "amount": 5000000}}]
    )
    assert bad.json()["results"][0]["status"] == "rejected"
    assert good.json()["results"][0]["status"] == "created"


def test_an_existing_record_and_a_conversation_status_are_updated(acme, client, acme_key) -> None:
    created = _send(
        client,
        acme_key,
        [
            {"id": "k-1", "type": "task", "task": {"title": "Call back"}},
            {
                "id": "m-1",
                "type": "message",
                "message": {
                    "contact": {"phone": "081298765432"},
                    "channel": "whatsapp",
                    "conversation": "chat-9",
                    "text": "Halo",
                },
            },
        ],
    ).json()["results"]
    updated = _send(
        client,
        acme_key,
        [
            {"id": "k-2", "type": "task", "task": {"record_id": created[0]["record_id"], "status": "done"}},
            {
                "id": "s-1",
                "type": "conversation_status",
                "conversation_status": {
                    "channel": "whatsapp",
                    "conversation": "chat-9",
                    "status": "resolved",
                },
            },
        ],
    ).json()["results"]
    assert [(r["status"], r["record_id"]) for r in updated] == [
        ("updated", created[0]["record_id"]),
        ("updated", created[1]["record_id"]),
    ]
    assert Conversation.objects.for_workspace(acme).get().status == "resolved"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"events": []}, 422),
        ({"events": {"id": "x"}}, 422),
        ({"batch": []}, 422),
        ([1, 2], 422),
    ],
)
def test_a_body_that_is_not_a_batch_is_one_problem(acme, client, acme_key, body, status) -> None:
    response = client.post(URL, data=body, content_type="application/json", **acme_key)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"


def test_more_than_500_events_is_one_problem_and_nothing_is_applied(acme, client, acme_key) -> None:
    events = [{"id": f"c-{n}", "type": "contact", "contact": {"full_name": f"N{n}"}} for n in range(501)]
    response = _send(client, acme_key, events)
    assert response.status_code == 422
    assert Customer.objects.for_workspace(acme).count() == 0


def test_a_session_user_sends_events_too(acme, bob, client_for) -> None:
    # given bob, an agent, signed in and naming acme
    response = client_for(bob).post(
        URL,
        data={"events": [{"id": "c-1", "type": "contact", "contact": {"full_name": "Sari"}}]},
        content_type="application/json",
        HTTP_X_WORKSPACE="acme",
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"


def test_an_outsider_naming_another_workspace_gets_a_404_and_nothing_changes(
    acme, charlie, client_for
) -> None:
    # when charlie, a member of globex only, names acme
    response = client_for(charlie).post(
        URL,
        data={"events": [{"id": "c-1", "type": "contact", "contact": {"full_name": "Sari"}}]},
        content_type="application/json",
        HTTP_X_WORKSPACE="acme",
    )
    # then it is a 404 and nothing is created in acme
    assert response.status_code == 404
    assert Customer.objects.for_workspace(acme).count() == 0
    assert IngestedEvent.objects.for_workspace(acme).count() == 0


def test_globex_key_cannot_update_an_acme_record(acme, alice, globex, client, acme_key, globex_key) -> None:
    # given a ticket of acme
    created = _send(client, acme_key, [{"id": "t-1", "type": "ticket", "ticket": {"title": "Acme's"}}]).json()
    ticket_id = created["results"][0]["record_id"]
    # when globex's key sends an update naming its id
    response = _send(
        client,
        globex_key,
        [{"id": "t-2", "type": "ticket", "ticket": {"record_id": ticket_id, "title": "Hijacked"}}],
    )
    # then it is rejected as not found, and acme's ticket is unchanged
    assert response.json()["results"][0] == {
        "id": "t-2",
        "status": "rejected",
        "customer_id": None,
        "record_id": None,
        "errors": {"ticket.record_id": ["No such record in this workspace."]},
    }
    assert Ticket.objects.for_workspace(acme).get().title == "Acme's"


def test_without_a_key_it_is_a_401(acme, client) -> None:
    response = client.post(URL, data={"events": []}, content_type="application/json")
    assert response.status_code == 401


def test_a_rejected_event_takes_back_the_customer_it_made_and_its_id_is_free_in_the_same_batch(
    acme, client, acme_key
) -> None:
    # given a batch: a ticket whose new contact is created before the ticket is refused, the same phone as a
    # contact, and the refused ticket's id again, corrected
    events = [
        {"id": "t-1", "type": "ticket", "ticket": {"title": "", "contact": {"phone": "081355551234"}}},
        {"id": "c-1", "type": "contact", "contact": {"full_name": "Rina", "phone": "+6281355551234"}},
        {"id": "t-1", "type": "ticket", "ticket": {"title": "Refund", "contact": {"phone": "081355551234"}}},
    ]
    # when it is sent
    results = _send(client, acme_key, events).json()["results"]
    # then the refused ticket left no customer: the contact creates it, and the corrected ticket is applied to it
    rina = Customer.objects.for_workspace(acme).get()
    assert [(r["id"], r["status"], r["customer_id"]) for r in results] == [
        ("t-1", "rejected", None),
        ("c-1", "created", rina.pk),
        ("t-1", "created", rina.pk),
    ]
    assert rina.full_name == "Rina"
    assert sorted(IngestedEvent.objects.for_workspace(acme).values_list("client_event_id", "event_type")) == [
        ("c-1", "contact"),
        ("t-1", "ticket"),
    ]


def test_a_later_event_of_the_batch_sees_the_name_an_earlier_one_gave(acme, client, acme_key) -> None:
    # given a batch naming one phone three times: created, renamed, then named as at first
    events = [
        {"id": "c-1", "type": "contact", "contact": {"full_name": "Rina", "phone": "081355551234"}},
        {"id": "c-2", "type": "contact", "contact": {"full_name": "Rina Wati", "phone": "081355551234"}},
        {"id": "c-3", "type": "contact", "contact": {"full_name": "Rina", "phone": "081355551234"}},
    ]
    # when it is sent
    results = _send(client, acme_key, events).json()["results"]
    # then the last name sent is the customer's, and every event names the one customer
    rina = Customer.objects.for_workspace(acme).get()
    assert [r["status"] for r in results] == ["created", "updated", "updated"]
    assert {r["customer_id"] for r in results} == {rina.pk}
    assert rina.full_name == "Rina"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a real race needs PostgreSQL's concurrent writers"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_naming_one_new_phone_make_one_customer_and_one_event(acme) -> None:
    # given four batches sent at the same moment, each with the same event and a contact of its own for one phone
    def batch(number: int) -> list[dict[str, Any]]:
        return [
            {"id": "c-shared", "type": "contact", "contact": {"phone": "081377770000"}},
            {"id": f"c-{number}", "type": "contact", "contact": {"phone": f"08135555{number:04d}"}},
            {"id": f"m-{number}", "type": "message", "message": {"contact": {"phone": "0813-7777-0000"}}},
        ]

    barrier = threading.Barrier(4)
    answers: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def send(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            answers[number] = events_ingest(workspace=acme, actor=None, events=batch(number))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then the shared event was applied once and is a duplicate elsewhere, and the phone has one customer
    assert errors == []
    shared = sorted(answers[number][0].status for number in range(4))
    assert shared == ["created", "duplicate", "duplicate", "duplicate"]
    phone_owner = Customer.objects.for_workspace(acme).get(phone="+6281377770000")
    assert {answers[number][2].customer_id for number in range(4)} == {phone_owner.pk}
    assert {answers[number][0].customer_id for number in range(4)} == {phone_owner.pk}
    assert Message.objects.for_workspace(acme).count() == 4
    assert IngestedEvent.objects.for_workspace(acme).count() == 9
