"""The interaction records API, /api/v1/<kind plural>: list (filters, a customer's tab, paging both ways), create
(idempotent), read, update; a conversation's messages; pipelines. Every endpoint with alice (owner), bob (agent),
an API key, and the outsiders charlie and the globex key (404, nothing changed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from relasi.core.models import AuditLog, IdempotentRequest
from relasi.customers.services import customer_create
from relasi.interactions.models import Campaign, Conversation, Message, Pipeline, Stage, Ticket
from relasi.interactions.services import message_add, record_create
from tests.customers.test_api_customers import problem

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
PLURALS = {
    "conversation": "conversations",
    "campaign": "campaigns",
    "company": "companies",
    "ticket": "tickets",
    "deal": "deals",
    "task": "tasks",
}
# The least each kind needs.
MINIMAL = {
    "conversation": {"channel": "whatsapp"},
    "campaign": {"name": "Promo Lebaran", "template_name": "promo_lebaran"},
    "company": {"name": "PT Maju Jaya"},
    "ticket": {"title": "Refund not received"},
    "deal": {"name": "500 seats"},
    "task": {"title": "Call back"},
}
# A field of each kind to change, with its new value.
CHANGE = {
    "conversation": ("status", "resolved"),
    "campaign": ("template_name", "promo_v2"),
    "company": ("industry", "Retail"),
    "ticket": ("priority", "urgent"),
    "deal": ("amount", 1500000),
    "task": ("status", "done"),
}


NOT_FOUND = problem(404, "not-found", "Not found.")
FILTERS_INVALID = ("The filters are not valid.", "One or more query parameters are not valid; see errors.")
BODY_INVALID = ("The request is not valid.", "One or more fields are not valid; see errors.")


def invalid_filter(errors: dict[str, list[str]]) -> dict[str, Any]:
    return problem(400, "invalid-filter", *FILTERS_INVALID, errors)


def invalid(errors: dict[str, list[str]]) -> dict[str, Any]:
    return problem(422, "validation", *BODY_INVALID, errors)


def post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", **headers)


def patch(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.patch(url, body, content_type="application/json", **headers)


@pytest.fixture
def budi(acme, alice):
    return customer_create(workspace=acme, actor=alice, data={"full_name": "Budi Santoso"})


@pytest.fixture
def callers(acme, alice, bob, acme_key, client_for) -> dict[str, tuple[Client, dict[str, str]]]:
    """The three ways into acme: its owner's session, its agent's session, its API key."""
    return {
        "alice": (client_for(alice), {"HTTP_X_WORKSPACE": "acme"}),
        "bob": (client_for(bob), {"HTTP_X_WORKSPACE": "acme"}),
        "key": (Client(), acme_key),
    }


# --- Create, read, update --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_ticket_is_created_with_every_field_and_read_back_exactly(
    acme, alice, bob, dave, budi, acme_key
) -> None:
    # given the second stage of acme's support pipeline
    support = Pipeline.objects.for_workspace(acme).get(kind="ticket")
    waiting = support.stages.get(name="Waiting on customer")
    # when the key creates a ticket for budi with every field
    created = post(
        Client(),
        "/api/v1/tickets",
        {
            "title": "Refund not received",
            "stage_id": waiting.pk,
            "priority": "high",
            "reporter_id": dave.pk,
            "assignee_id": bob.pk,
            "due_at": "2026-11-29T12:00:00+07:00",
            "customers": [budi.pk],
        },
        acme_key,
    )
    # then it answers 201 with every field, times in UTC; the ticket, due in 2 hours, is at risk
    assert created.status_code == 201
    ticket = Ticket.objects.for_workspace(acme).get()
    expected = {
        "id": ticket.pk,
        "customer_ids": [budi.pk],
        "created_by": None,
        "created_at": "2026-11-29T03:00:00Z",
        "updated_at": "2026-11-29T03:00:00Z",
        "pipeline": {"id": support.pk, "name": "Support"},
        "stage": {"id": waiting.pk, "name": "Waiting on customer"},
        "priority": "high",
        "title": "Refund not received",
        "reporter": {"id": dave.pk, "full_name": "Dave Admin"},
        "assignee": {"id": bob.pk, "full_name": "Bob Agent"},
        "due_at": "2026-11-29T05:00:00Z",
        "resolved_at": None,
        "sla_status": "at_risk",
    }
    assert created.json() == expected
    # and reading it gives the same
    read = Client().get(f"/api/v1/tickets/{ticket.pk}", **acme_key)
    assert (read.status_code, read.json()) == (200, expected)


@time_machine.travel(NOW, tick=False)
def test_a_conversation_shows_its_messages_count_and_last_message_time(acme, alice, budi, acme_key) -> None:
    conversation = record_create(
        workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp"}, customer_ids=[budi.pk]
    )
    message_add(
        workspace=acme,
        actor=None,
        conversation_id=conversation.pk,
        direction="inbound",
        text="Halo",
        sent_at=NOW - timedelta(minutes=5),
    )
    response = Client().get(f"/api/v1/conversations/{conversation.pk}", **acme_key)
    assert response.json() == {
        "id": conversation.pk,
        "customer_ids": [budi.pk],
        "created_by": {"id": alice.pk, "full_name": "Alice Owner"},
        "created_at": "2026-11-29T03:00:00Z",
        "updated_at": "2026-11-29T03:00:00Z",
        "channel": "whatsapp",
        "status": "open",
        "subject": "",
        "assignee": None,
        "external_id": "",
        "messages_count": 1,
        "last_message_at": "2026-11-29T02:55:00Z",
    }


@pytest.mark.parametrize("kind", list(PLURALS))
@pytest.mark.parametrize("caller", ["alice", "bob", "key"])
def test_each_kind_is_created_listed_read_and_updated_by_owner_agent_and_key(
    acme, callers, kind, caller
) -> None:
    client, headers = callers[caller]
    url = f"/api/v1/{PLURALS[kind]}"
    # when the caller creates a record of the kind
    created = post(client, url, MINIMAL[kind], headers)
    assert created.status_code == 201, created.json()
    record_id = created.json()["id"]
    # then it is listed and read
    listed = client.get(url, **headers)
    assert [item["id"] for item in listed.json()["items"]] == [record_id]
    assert client.get(f"{url}/{record_id}", **headers).json() == created.json()
    # and a change answers the record as it now is
    field, value = CHANGE[kind]
    changed = patch(client, f"{url}/{record_id}", {field: value}, headers)
    assert changed.status_code == 200
    assert changed.json()[field] == value
    assert AuditLog.objects.filter(workspace=acme, action=f"{kind}.updated").count() == 1


def test_wrong_values_are_a_422_per_field_with_the_api_names_and_nothing_is_created(
    acme, charlie, globex, acme_key
) -> None:
    foreign_stage = Stage.objects.for_workspace(globex).filter(pipeline__kind="deal").first()
    assert foreign_stage is not None
    response = post(
        Client(),
        "/api/v1/deals",
        {
            "name": "Big",
            "owner_id": charlie.pk,
            "stage_id": foreign_stage.pk,
            "expected_close_date": "2026-02-30",
        },
        acme_key,
    )
    assert response.status_code == 422
    assert response.json() == invalid(
        {
            "stage_id": ["Choose a stage of one of this workspace's pipelines for this kind of record."],
            "owner_id": ["Choose a member of this workspace."],
            "expected_close_date": ["“2026-02-30” is not a date (use YYYY-MM-DD)."],
        }
    )
    assert not AuditLog.objects.filter(workspace=acme, action="deal.created").exists()


def test_the_schema_refuses_unknown_fields_and_wrong_types_and_the_cleaner_a_blank_title(
    acme, acme_key
) -> None:
    shape = post(
        Client(),
        "/api/v1/tasks",
        {"title": "Call", "priority": "huge", "colour": "red", "due_date": 5},
        acme_key,
    )
    assert shape.status_code == 422
    assert set(shape.json()["errors"]) == {"priority", "colour", "due_date"}
    blank = post(Client(), "/api/v1/tasks", {"title": " "}, acme_key)
    assert blank.json() == invalid({"title": ["This field is required."]})
    assert not AuditLog.objects.filter(workspace=acme, action="task.created").exists()


def test_a_customer_of_another_workspace_cannot_be_associated_on_create(
    acme, globex, charlie, acme_key
) -> None:
    theirs = customer_create(workspace=globex, actor=charlie, data={"full_name": "Gina Globex"})
    response = post(Client(), "/api/v1/companies", {"name": "PT X", "customers": [theirs.pk]}, acme_key)
    assert response.json() == invalid({"customers": ["No such customer in this workspace."]})
    assert not AuditLog.objects.filter(workspace=acme, action="company.created").exists()


def test_a_patch_that_changes_nothing_writes_nothing(acme, alice, acme_key) -> None:
    task = record_create(workspace=acme, actor=alice, kind="task", data={"title": "Call back"})
    before = Client().get(f"/api/v1/tasks/{task.pk}", **acme_key).json()
    response = patch(
        Client(), f"/api/v1/tasks/{task.pk}", {"title": "Call back", "priority": "medium"}, acme_key
    )
    assert (response.status_code, response.json()) == (200, before)
    assert not AuditLog.objects.filter(workspace=acme, action="task.updated").exists()


def test_null_clears_a_person_and_is_refused_for_a_required_title(acme, alice, bob, acme_key) -> None:
    task = record_create(workspace=acme, actor=alice, kind="task", data={"title": "Call", "assignee": bob.pk})
    cleared = patch(Client(), f"/api/v1/tasks/{task.pk}", {"assignee_id": None}, acme_key)
    assert cleared.json()["assignee"] is None
    refused = patch(Client(), f"/api/v1/tasks/{task.pk}", {"title": None}, acme_key)
    assert refused.json() == invalid({"title": ["Send a value, or leave the field out to keep it."]})


# --- Idempotent create ------------------------------------------------------------------------------------


def test_a_create_repeated_with_the_same_idempotency_key_creates_one_record(acme, acme_key) -> None:
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "ticket-42"}
    first = post(Client(), "/api/v1/tickets", {"title": "Refund"}, headers)
    again = post(Client(), "/api/v1/tickets", {"title": "Refund"}, headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Ticket.objects.for_workspace(acme).count() == 1
    other = post(Client(), "/api/v1/tickets", {"title": "Another"}, headers)
    assert other.status_code == 409
    assert other.json()["type"] == "https://relasi.dev/problems/idempotency-key-reused"
    assert IdempotentRequest.objects.for_workspace(acme).count() == 1


# --- Lists: filters, a customer's tab, paging ---------------------------------------------------------------


@pytest.fixture
def tickets(acme, alice, bob, dave, budi) -> dict[str, Ticket]:
    """Four tickets: breached, at risk, on time (no due time) and on time (resolved before due), changed in that
    order; two of them budi's."""
    made: dict[str, Ticket] = {}
    rows = [
        (
            "breached",
            {"priority": "urgent", "assignee": bob.pk, "due_at": NOW - timedelta(hours=1)},
            [budi.pk],
        ),
        ("at_risk", {"priority": "high", "assignee": dave.pk, "due_at": NOW + timedelta(hours=2)}, []),
        ("no_due", {"priority": "low", "reporter": dave.pk}, [budi.pk]),
        (
            "resolved",
            {"priority": "high", "due_at": NOW - timedelta(days=2), "resolved_at": NOW - timedelta(days=3)},
            [],
        ),
    ]
    for index, (title, data, customers) in enumerate(rows):
        with time_machine.travel(NOW - timedelta(minutes=10 - index), tick=False):
            made[title] = record_create(  # type: ignore[assignment]
                workspace=acme,
                actor=alice,
                kind="ticket",
                data={
                    "title": title,
                    **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()},
                },
                customer_ids=customers,
            )
    return made


def titles(response: Any) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["resolved", "no_due", "at_risk", "breached"]),
        ({"sla": "breached"}, ["breached"]),
        ({"sla": ["on_time", "at_risk"]}, ["resolved", "no_due", "at_risk"]),
        ({"priority": "high"}, ["resolved", "at_risk"]),
        ({"priority": ["urgent", "low"]}, ["no_due", "breached"]),
        ({"assignee": "BOB"}, ["breached"]),
        ({"reporter": "DAVE"}, ["no_due"]),
        ({"pipeline": "SUPPORT", "priority": "high", "sla": "at_risk"}, ["at_risk"]),
        # parameters another kind offers are not a ticket's: ignored, as on the page
        ({"approval_status": "approved"}, ["resolved", "no_due", "at_risk", "breached"]),
    ],
)
def test_the_ticket_filters(acme, bob, dave, tickets, acme_key, params, expected) -> None:
    support = Pipeline.objects.for_workspace(acme).get(kind="ticket")
    names = {"BOB": str(bob.pk), "DAVE": str(dave.pk), "SUPPORT": str(support.pk)}
    query = {
        key: names.get(value, value) if isinstance(value, str) else value for key, value in params.items()
    }
    response = Client().get("/api/v1/tickets", query, **acme_key)
    assert response.status_code == 200
    assert titles(response) == expected


@time_machine.travel(NOW, tick=False)
def test_a_customers_tab_lists_only_its_records_with_the_filters(acme, budi, tickets, acme_key) -> None:
    every = Client().get("/api/v1/tickets", {"customer": budi.pk}, **acme_key)
    assert titles(every) == ["no_due", "breached"]
    urgent = Client().get("/api/v1/tickets", {"customer": budi.pk, "priority": "urgent"}, **acme_key)
    assert titles(urgent) == ["breached"]


@time_machine.travel(NOW, tick=False)
def test_the_campaigns_tab_shows_the_last_twelve_months_and_the_list_shows_all(
    acme, alice, budi, acme_key
) -> None:
    for name, sent in [("Old", NOW - timedelta(days=400)), ("Recent", NOW - timedelta(days=30))]:
        record_create(
            workspace=acme,
            actor=alice,
            kind="campaign",
            data={"name": name, "template_name": "t", "sent_at": sent.isoformat()},
            customer_ids=[budi.pk],
        )
    tab = Client().get("/api/v1/campaigns", {"customer": budi.pk}, **acme_key)
    listed = Client().get("/api/v1/campaigns", **acme_key)
    assert [item["name"] for item in tab.json()["items"]] == ["Recent"]
    assert [item["name"] for item in listed.json()["items"]] == ["Recent", "Old"]
    assert Campaign.objects.for_workspace(acme).count() == 2


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"sla": "late"}, {"sla": ["“late” is not one of: at_risk, breached, on_time."]}),
        ({"priority": ""}, {"priority": ["Leave the parameter out, or give it a value."]}),
        ({"assignee": "²"}, {"assignee": ["“²” is not an id."]}),
        ({"pipeline": "abc"}, {"pipeline": ["“abc” is not an id."]}),
        ({"priority": [str(n) for n in range(51)]}, {"priority": ["At most 50 values."]}),
        ({"limit": "0"}, {"limit": ["Input should be greater than or equal to 1"]}),
        (
            {"customer": "x"},
            {"customer": ["Input should be a valid integer, unable to parse string as an integer"]},
        ),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_parameter(acme, acme_key, params, errors) -> None:
    response = Client().get("/api/v1/tickets", params, **acme_key)
    assert response.status_code == 400
    assert response.json() == invalid_filter(errors)


def test_a_status_filter_reads_the_kinds_own_statuses(acme, alice, acme_key) -> None:
    record_create(
        workspace=acme, actor=alice, kind="conversation", data={"channel": "email", "status": "pending"}
    )
    record_create(workspace=acme, actor=alice, kind="task", data={"title": "Done", "status": "done"})
    pending = Client().get("/api/v1/conversations", {"status": "pending", "channel": "email"}, **acme_key)
    assert len(pending.json()["items"]) == 1
    wrong = Client().get("/api/v1/tasks", {"status": "pending"}, **acme_key)
    assert wrong.json() == invalid_filter({"status": ["“pending” is not one of: done, in_progress, todo."]})


def test_a_list_pages_both_ways(acme, alice, acme_key) -> None:
    # given five companies changed one minute apart
    for index in range(5):
        with time_machine.travel(NOW + timedelta(minutes=index), tick=False):
            record_create(workspace=acme, actor=alice, kind="company", data={"name": f"C{index}"})
    client = Client()

    def names(response: Any) -> list[str]:
        return [item["name"] for item in response.json()["items"]]

    # when paging forward two at a time
    first = client.get("/api/v1/companies", {"limit": 2}, **acme_key).json()
    second = client.get("/api/v1/companies", {"limit": 2, "cursor": first["next_cursor"]}, **acme_key)
    third = client.get("/api/v1/companies", {"limit": 2, "cursor": second.json()["next_cursor"]}, **acme_key)
    # then the pages follow, newest first, with their positions
    assert [item["name"] for item in first["items"]] == ["C4", "C3"]
    assert (names(second), second.json()["position"]) == (["C2", "C1"], 2)
    assert (names(third), third.json()["position"], third.json()["next_cursor"]) == (["C0"], 4, None)
    # and back
    back = client.get(
        "/api/v1/companies", {"limit": 2, "cursor": third.json()["previous_cursor"]}, **acme_key
    )
    assert (names(back), back.json()["position"]) == (["C2", "C1"], 2)
    # a cursor of another list is refused
    other = client.get("/api/v1/tickets", {"limit": 2, "cursor": first["next_cursor"]}, **acme_key)
    assert other.status_code == 400
    assert other.json()["type"] == "https://relasi.dev/problems/invalid-cursor"


# --- Messages ---------------------------------------------------------------------------------------------


@pytest.fixture
def conversation(acme, alice, budi) -> Conversation:
    return record_create(  # type: ignore[return-value]
        workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp"}, customer_ids=[budi.pk]
    )


@pytest.mark.parametrize("caller", ["alice", "bob", "key"])
def test_a_message_redelivered_is_stored_once_and_answered_200(acme, conversation, callers, caller) -> None:
    client, headers = callers[caller]
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    body = {
        "direction": "inbound",
        "text": "Halo, pesanan saya belum sampai",
        "sent_at": "2026-11-29T09:30:00+07:00",
        "provider_message_id": "wamid.HBgM",
    }
    first = post(client, url, body, headers)
    again = post(client, url, body, headers)
    message = Message.objects.for_workspace(acme).get()
    expected = {
        "id": message.pk,
        "conversation_id": conversation.pk,
        "direction": "inbound",
        "type": "text",
        "text": "Halo, pesanan saya belum sampai",
        "sent_at": "2026-11-29T02:30:00Z",
        "provider_message_id": "wamid.HBgM",
        "author": None,
    }
    assert (first.status_code, first.json()) == (201, expected)
    assert (again.status_code, again.json()) == (200, expected)
    conversation.refresh_from_db()
    assert conversation.messages_count == 1


def test_an_outbound_message_names_its_author_and_a_bad_one_is_refused(
    acme, alice, conversation, client_for
) -> None:
    client = client_for(alice)
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    sent = post(client, url, {"direction": "outbound", "type": "image"}, {"HTTP_X_WORKSPACE": "acme"})
    assert sent.status_code == 201
    assert (sent.json()["author"], sent.json()["type"], sent.json()["text"]) == (
        {"id": alice.pk, "full_name": "Alice Owner"},
        "image",
        "",
    )
    refused = post(
        client,
        url,
        {"direction": "outbound", "type": " ", "sent_at": "2026-02-30T09:00:00+07:00", "text": "x" * 4097},
        {"HTTP_X_WORKSPACE": "acme"},
    )
    assert refused.json() == invalid(
        {
            "text": ["At most 4096 characters."],
            "type": ["This field is required."],
            "sent_at": ["“2026-02-30T09:00:00+07:00” is not a date and time (use YYYY-MM-DD HH:MM)."],
        }
    )
    assert Message.objects.for_workspace(acme).count() == 1
    # a time the description's pattern does not allow (no offset, month 13, an offset past 14 hours) is refused
    # before it is read
    for moment in ("2026-11-29T09:00:00", "2026-13-01T00:00:00Z", "2026-11-29T09:00:00+19:17"):
        refused = post(client, url, {"direction": "inbound", "sent_at": moment}, {"HTTP_X_WORKSPACE": "acme"})
        assert refused.json() == invalid({"sent_at": ["Write it like 2026-03-31T14:30:00+07:00."]})


def test_messages_are_listed_oldest_first_and_paged_both_ways(acme, conversation, acme_key) -> None:
    for minute in (3, 1, 2):
        message_add(
            workspace=acme,
            actor=None,
            conversation_id=conversation.pk,
            direction="inbound",
            text=f"m{minute}",
            sent_at=NOW + timedelta(minutes=minute),
        )
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    first = Client().get(url, {"limit": 2}, **acme_key).json()
    second = Client().get(url, {"limit": 2, "cursor": first["next_cursor"]}, **acme_key).json()
    back = Client().get(url, {"limit": 2, "cursor": second["previous_cursor"]}, **acme_key).json()
    assert [item["text"] for item in first["items"]] == ["m1", "m2"]
    assert ([item["text"] for item in second["items"]], second["next_cursor"]) == (["m3"], None)
    assert [item["text"] for item in back["items"]] == ["m1", "m2"]


# --- Pipelines --------------------------------------------------------------------------------------------


def test_pipelines_of_a_kind_with_their_stages(acme, callers) -> None:
    deal = Pipeline.objects.for_workspace(acme).get(kind="deal")
    stages = list(deal.stages.order_by("position"))
    for client, headers in callers.values():
        response = client.get("/api/v1/pipelines", {"kind": "deal"}, **headers)
        assert response.json() == {
            "items": [
                {
                    "id": deal.pk,
                    "kind": "deal",
                    "name": "Sales",
                    "position": 0,
                    "stages": [
                        {"id": stage.pk, "name": stage.name, "position": stage.position} for stage in stages
                    ],
                }
            ]
        }
    every = callers["key"][0].get("/api/v1/pipelines", **callers["key"][1])
    assert [item["name"] for item in every.json()["items"]] == ["Support", "Sales", "Follow-up"]
    wrong = callers["key"][0].get("/api/v1/pipelines", {"kind": "company"}, **callers["key"][1])
    assert wrong.status_code == 400


# --- Outsiders ------------------------------------------------------------------------------------------


def test_a_kind_that_does_not_exist_is_a_404(acme, acme_key) -> None:
    assert (
        Client().get("/api/v1/widgets", **acme_key).json()["type"] == "https://relasi.dev/problems/not-found"
    )
    assert Client().get("/api/v1/tickets/999999", **acme_key).json() == NOT_FOUND


@pytest.mark.parametrize("outsider", ["globex_key", "charlie"])
def test_an_outsider_gets_404_everywhere_and_changes_nothing(
    request, acme, alice, budi, conversation, charlie, globex, client_for, outsider
) -> None:
    # given acme's ticket and conversation, and an outsider: globex's key, or charlie signed in naming globex
    ticket = record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"})
    if outsider == "charlie":
        client, headers = client_for(charlie), {"HTTP_X_WORKSPACE": "globex"}
        # naming acme itself is a 404 too: charlie is no member
        assert client.get("/api/v1/tickets", HTTP_X_WORKSPACE="acme").status_code == 404
    else:
        client, headers = Client(), request.getfixturevalue("globex_key")
    audit_before = AuditLog.objects.filter(workspace=acme).count()
    # when it reads, changes, lists by acme's customer, and adds a message
    answers = [
        client.get(f"/api/v1/tickets/{ticket.pk}", **headers),
        patch(client, f"/api/v1/tickets/{ticket.pk}", {"title": "Hacked", "assignee_id": 1}, headers),
        client.get("/api/v1/tickets", {"customer": budi.pk}, **headers),
        client.get(f"/api/v1/conversations/{conversation.pk}", **headers),
        client.get(f"/api/v1/conversations/{conversation.pk}/messages", **headers),
        post(
            client,
            f"/api/v1/conversations/{conversation.pk}/messages",
            {"direction": "inbound", "text": "x", "provider_message_id": "p1"},
            headers,
        ),
    ]
    # then every answer is a 404 and nothing changed
    assert [(answer.status_code, answer.json()) for answer in answers] == [(404, NOT_FOUND)] * len(answers)
    ticket.refresh_from_db()
    assert ticket.title == "Refund"
    assert not Message.objects.for_workspace(acme).exists()
    assert AuditLog.objects.filter(workspace=acme).count() == audit_before
    # and its own lists are empty
    assert client.get("/api/v1/tickets", **headers).json()["items"] == []
