"""Each kind's pages (issue 10, item 1): the list with filters and paging both ways, the "New" form, the record's
page with its form and customers, a conversation's messages; made from the table of kinds for all six. An owner
(alice) and an agent (bob) use them; an outsider (charlie) gets a 404 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from relasi.customers.models import Customer
from relasi.customers.services import customer_create
from relasi.interactions.kinds import KINDS
from relasi.interactions.models import Conversation, ConversationCustomer, Deal, DealCustomer, Message, Ticket
from relasi.interactions.selectors import records_page
from relasi.interactions.services import message_add, record_create

pytestmark = pytest.mark.django_db

PLURAL = {
    "conversation": "conversations",
    "campaign": "campaigns",
    "company": "companies",
    "ticket": "tickets",
    "deal": "deals",
    "task": "tasks",
}
# The least each kind needs.
MINIMAL: dict[str, dict[str, str]] = {
    "conversation": {"channel": "whatsapp", "subject": "Order question"},
    "campaign": {"name": "Harbolnas", "template_name": "promo_1212"},
    "company": {"name": "Toko Maju"},
    "ticket": {"title": "Refund"},
    "deal": {"name": "Big order"},
    "task": {"title": "Call back"},
}


@pytest.fixture
def budi(acme, alice) -> Customer:
    return customer_create(workspace=acme, actor=alice, data={"full_name": "Budi Santoso"})


def list_url(kind: str, slug: str = "acme") -> str:
    return reverse("interactions:record_list", kwargs={"workspace_slug": slug, "kind": kind})


def record_url(kind: str, record_id: int, slug: str = "acme") -> str:
    return reverse(
        "interactions:record_detail", kwargs={"workspace_slug": slug, "kind": kind, "record_id": record_id}
    )


def test_the_urls_name_each_kind_in_its_plural() -> None:
    assert [list_url(kind) for kind in KINDS] == [f"/app/acme/{PLURAL[kind]}/" for kind in KINDS]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_member_adds_a_record_of_each_kind_and_finds_it_in_the_list(request, acme, kind, who) -> None:
    client = request.getfixturevalue("client_for")(request.getfixturevalue(who))
    # given the New form, one field per FieldSpec in the table's order
    form = client.get(reverse("interactions:record_new", kwargs={"workspace_slug": "acme", "kind": kind}))
    assert form.status_code == 200
    assert list(form.context["form"].fields) == KINDS[kind].field_names

    # when it is sent with the least the kind needs
    response = client.post(
        reverse("interactions:record_new", kwargs={"workspace_slug": "acme", "kind": kind}), MINIMAL[kind]
    )

    # then the record exists, its page opens, and the list shows it
    record = KINDS[kind].model.objects.for_workspace(acme).get()
    assert response.status_code == 302
    assert response["Location"] == record_url(kind, record.pk)
    assert client.get(record_url(kind, record.pk)).status_code == 200
    listed = client.get(list_url(kind))
    assert listed.status_code == 200
    assert [row.title for row in listed.context["rows"]] == [str(getattr(record, KINDS[kind].title_field))]


def test_widgets_follow_the_value_types(acme, alice, client_for) -> None:
    form = client_for(alice).get(
        reverse("interactions:record_new", kwargs={"workspace_slug": "acme", "kind": "deal"})
    )
    html = form.content.decode()
    assert 'type="date" name="expected_close_date"' in html
    assert '<select name="owner"' in html
    assert '<optgroup label="Sales">' in html
    assert 'inputmode="numeric"' in html
    assert 'name="name" maxlength="200"' in html


def test_the_cleaners_errors_are_shown_on_the_form_and_nothing_is_stored(acme, alice, client_for) -> None:
    response = client_for(alice).post(
        reverse("interactions:record_new", kwargs={"workspace_slug": "acme", "kind": "ticket"}),
        {"title": "", "priority": "someday", "due_at": "tomorrow", "assignee": "999"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "title": ["This field is required."],
        "priority": ["“someday” is not one of: high, low, medium, urgent."],
        "assignee": ["Choose a member of this workspace."],
        "due_at": ["“tomorrow” is not a date and time (use YYYY-MM-DD HH:MM)."],
    }
    assert 'class="form-control is-invalid"' in response.content.decode()
    assert not Ticket.objects.for_workspace(acme).exists()


def test_a_record_is_edited_on_its_page(acme, alice, bob, client_for) -> None:
    deal = record_create(workspace=acme, actor=alice, kind="deal", data={"name": "Big order"})
    client = client_for(bob)
    shown = client.get(record_url("deal", deal.pk)).context["form"].initial
    assert shown["name"] == "Big order"
    assert shown["approval_status"] == "none"

    response = client.post(
        record_url("deal", deal.pk),
        {**shown, "amount": "1500000", "approval_status": "waiting", "owner": bob.pk},
    )

    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.amount, deal.approval_status, deal.owner_id, deal.name) == (
        1500000,
        "waiting",
        bob.pk,
        "Big order",
    )


def test_an_edit_with_a_wrong_value_says_so_and_keeps_the_record(acme, alice, client_for) -> None:
    deal = record_create(workspace=acme, actor=alice, kind="deal", data={"name": "Big order", "amount": 5})
    response = client_for(alice).post(record_url("deal", deal.pk), {"name": "Big order", "amount": "lots"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["amount"]
    deal.refresh_from_db()
    assert deal.amount == 5


def test_the_list_filters_and_pages_both_ways(acme, alice, client_for) -> None:
    for number in range(55):
        record_create(
            workspace=acme,
            actor=alice,
            kind="deal",
            data={"name": f"Deal {number:02d}", "priority": "urgent" if number % 5 == 0 else "low"},
        )
    client = client_for(alice)
    first = client.get(list_url("deal"))
    assert len(first.context["rows"]) == 50
    assert first.context["rows"][0].title == "Deal 54"
    assert first.context["paging"].previous_url is None
    second = client.get(
        first.context["paging"].next_url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-table"
    )
    assert [row.title for row in second.context["rows"]] == [
        "Deal 04",
        "Deal 03",
        "Deal 02",
        "Deal 01",
        "Deal 00",
    ]
    assert second.content.decode().startswith('\n<div id="record-table"')
    back = client.get(second.context["paging"].previous_url)
    assert back.context["rows"][0].title == "Deal 54"

    urgent = client.get(list_url("deal") + "?priority=urgent")
    assert len(urgent.context["rows"]) == 11
    assert {row.cells[4].text for row in urgent.context["rows"]} == {"Urgent"}


def test_a_bad_filter_or_cursor_is_a_message_not_a_500(acme, alice, client_for) -> None:
    client = client_for(alice)
    bad = client.get(list_url("task") + "?status=someday")
    assert bad.status_code == 400
    assert bad.context["errors"] == {"status": "“someday” is not one of: done, in_progress, todo."}
    cursor = client.get(list_url("task") + "?cursor=garbage")
    assert cursor.status_code == 400
    assert "This page link is no longer valid" in cursor.content.decode()


def test_the_customers_of_a_record_are_added_and_removed(
    acme, alice, bob, budi, globex, charlie, client_for
) -> None:
    deal = record_create(workspace=acme, actor=alice, kind="deal", data={"name": "Big order"})
    stranger = customer_create(workspace=globex, actor=charlie, data={"full_name": "Budi Globex"})
    client = client_for(bob)

    # the picker finds acme's Budi, never globex's
    picker = client.get(
        reverse(
            "interactions:record_customer_picker",
            kwargs={"workspace_slug": "acme", "kind": "deal", "record_id": deal.pk},
        )
        + "?q=Budi"
    )
    assert [customer.pk for customer in picker.context["found"]] == [budi.pk]

    add = reverse(
        "interactions:record_customer_add",
        kwargs={"workspace_slug": "acme", "kind": "deal", "record_id": deal.pk},
    )
    assert client.post(add, {"customer": budi.pk}).status_code == 302
    assert [customer.pk for customer in client.get(record_url("deal", deal.pk)).context["customers"]] == [
        budi.pk
    ]
    # another workspace's customer is "not found", nothing stored
    refused = client.post(add, {"customer": stranger.pk})
    assert refused.status_code == 400
    assert refused.context["picker_errors"] == ["No such customer in this workspace."]
    assert DealCustomer.objects.for_workspace(acme).count() == 1

    remove = reverse(
        "interactions:record_customer_remove",
        kwargs={"workspace_slug": "acme", "kind": "deal", "record_id": deal.pk, "customer_id": budi.pk},
    )
    assert client.post(remove).status_code == 302
    assert not DealCustomer.objects.for_workspace(acme).exists()


def test_a_conversation_shows_its_messages_and_takes_an_outbound_one(
    acme, alice, bob, budi, client_for
) -> None:
    chat = record_create(
        workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp"}, customer_ids=[budi.pk]
    )
    message_add(
        workspace=acme, actor=None, conversation_id=chat.pk, direction="inbound", text="Halo, stok ada?"
    )
    client = client_for(bob)

    response = client.post(
        reverse(
            "interactions:conversation_message_add", kwargs={"workspace_slug": "acme", "record_id": chat.pk}
        ),
        {"text": "Ada, kak."},
    )

    assert response.status_code == 302
    page = client.get(record_url("conversation", chat.pk))
    assert [(m.direction, m.text) for m in page.context["thread"].items] == [
        ("inbound", "Halo, stok ada?"),
        ("outbound", "Ada, kak."),
    ]
    assert Message.objects.for_workspace(acme).get(text="Ada, kak.").author == bob
    chat.refresh_from_db()
    assert chat.messages_count == 2
    # an empty message is refused on the form
    empty = client.post(
        reverse(
            "interactions:conversation_message_add", kwargs={"workspace_slug": "acme", "record_id": chat.pk}
        ),
        {"text": ""},
    )
    assert empty.status_code == 400
    assert empty.context["message_form"].errors == {"text": ["Write a message."]}


def test_an_outsider_gets_404_on_every_record_page_and_changes_nothing(
    acme, alice, budi, globex, charlie, client_for
) -> None:
    chat = record_create(workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp"})
    deal = record_create(
        workspace=acme, actor=alice, kind="deal", data={"name": "Big order"}, customer_ids=[budi.pk]
    )
    client = client_for(charlie)
    kwargs = {"workspace_slug": "acme", "kind": "deal", "record_id": deal.pk}
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("get", list_url("deal"), {}),
        ("get", reverse("interactions:record_new", kwargs={"workspace_slug": "acme", "kind": "deal"}), {}),
        (
            "post",
            reverse("interactions:record_new", kwargs={"workspace_slug": "acme", "kind": "deal"}),
            {"name": "X"},
        ),
        ("get", record_url("deal", deal.pk), {}),
        ("post", record_url("deal", deal.pk), {"name": "Hacked"}),
        ("get", reverse("interactions:record_customer_picker", kwargs=kwargs) + "?q=Budi", {}),
        ("post", reverse("interactions:record_customer_add", kwargs=kwargs), {"customer": budi.pk}),
        (
            "post",
            reverse("interactions:record_customer_remove", kwargs={**kwargs, "customer_id": budi.pk}),
            {},
        ),
        (
            "post",
            reverse(
                "interactions:conversation_message_add",
                kwargs={"workspace_slug": "acme", "record_id": chat.pk},
            ),
            {"text": "spam"},
        ),
    ]
    for method, path, data in calls:
        assert getattr(client, method)(path, data).status_code == 404, (method, path)
    # and charlie's own workspace does not reach acme's records by id
    assert client.get(record_url("deal", deal.pk, slug="globex")).status_code == 404
    deal.refresh_from_db()
    assert deal.name == "Big order"
    assert Deal.objects.for_workspace(acme).count() == 1
    assert DealCustomer.objects.for_workspace(acme).count() == 1
    assert not Message.objects.for_workspace(acme).exists()
    assert not ConversationCustomer.objects.for_workspace(acme).exists()
    assert records_page(workspace=globex, kind="deal").items == []
    assert Conversation.objects.for_workspace(acme).count() == 1


def test_record_customers_lists_live_customers_by_name(acme, alice, budi) -> None:
    from relasi.customers.services import customers_delete
    from relasi.interactions.selectors import record_customers

    ani = customer_create(workspace=acme, actor=alice, data={"full_name": "Ani"})
    gone = customer_create(workspace=acme, actor=alice, data={"full_name": "Gone"})
    deal = record_create(
        workspace=acme,
        actor=alice,
        kind="deal",
        data={"name": "Big order"},
        customer_ids=[budi.pk, ani.pk, gone.pk],
    )
    customers_delete(workspace=acme, actor=alice, customer_ids=[gone.pk])
    assert [c.full_name for c in record_customers(workspace=acme, kind="deal", record_id=deal.pk)] == [
        "Ani",
        "Budi Santoso",
    ]


def test_the_menu_links_the_six_lists(acme, bob, client_for) -> None:
    html = client_for(bob).get(list_url("ticket")).content.decode()
    for kind in KINDS:
        assert f'href="/app/acme/{PLURAL[kind]}/"' in html
    assert 'aria-current="page" href="/app/acme/tickets/">Tickets</a>' in html


@pytest.mark.parametrize(
    ("language", "labels"), [("en", ["High", "Pending"]), ("id", ["Tinggi", "Menunggu"])]
)
def test_a_list_shows_choices_by_their_label_in_the_readers_language(
    acme, alice, client_for, language: str, labels: list[str]
) -> None:
    # given a ticket of high priority and a pending conversation without a subject
    record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Refund", "priority": "high"})
    chat = record_create(
        workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp", "status": "pending"}
    )
    client = client_for(alice)
    client.cookies["django_language"] = language
    # when the lists are read in the language
    tickets = client.get(list_url("ticket"))
    chats = client.get(list_url("conversation"))
    # then in the rows (not the filter panel) each choice shows its label, and a conversation without a subject
    # its channel and number
    ticket_rows = tickets.content.decode().split('data-testid="records-box"')[1]
    chat_rows = chats.content.decode().split('data-testid="records-box"')[1]
    assert labels[0] in ticket_rows
    assert labels[1] in chat_rows
    assert f"WhatsApp #{chat.pk}" in chat_rows
