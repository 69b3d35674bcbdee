"""The customer detail page (issue 10, item 2): name, details card edited in place, activity log counts, the
timeline in the reader's words, and the interaction tabs with filters, picker, "Create new" and removal; an owner
(alice) and an agent (bob) use it, an outsider (charlie) gets a 404 everywhere and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from relasi.customers.forms import CustomerForm
from relasi.customers.models import Customer, TimelineEntry
from relasi.customers.services import customer_create, customers_delete
from relasi.interactions.models import Campaign, Deal, Task, TaskCustomer, Ticket, TicketCustomer
from relasi.interactions.services import record_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def budi(acme, alice) -> Customer:
    return customer_create(workspace=acme, actor=alice, data={"full_name": "Budi Santoso", "status": "Lead"})


def url(name: str, customer: Customer, slug: str = "acme", **kwargs: Any) -> str:
    return reverse(
        f"interactions:{name}", kwargs={"workspace_slug": slug, "customer_id": customer.pk, **kwargs}
    )


HTMX_TAB = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "interactions"}


def card_data(workspace, customer: Customer, **changes: str) -> dict[str, Any]:
    """What the in-place form sends: every field as shown, with the changes typed in."""
    form = CustomerForm(workspace=workspace, customer=customer)
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    return {**data, **changes}


def timeline_texts(response) -> list[str]:
    return [line.text for line in response.context["lines"]]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_member_sees_the_name_details_counts_timeline_and_the_articles_tabs(
    request, acme, alice, budi, who
) -> None:
    # given Budi with a ticket
    record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"}, customer_ids=[budi.pk]
    )
    client = request.getfixturevalue("client_for")(request.getfixturevalue(who))

    # when a member opens View details
    response = client.get(url("customer_detail", budi))

    # then the page shows the name, the card, the counts, the timeline and the six buttons
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="h3 mb-0 me-auto text-break" data-testid="customer-name">Budi Santoso</h1>' in html
    assert ("Status", "Lead") in response.context["card_rows"]
    assert [(label, total) for label, total, _url in response.context["counts"]] == [
        ("Chats", 0),
        ("Tickets", 1),
        ("Deals", 0),
        ("Tasks", 0),
    ]
    assert [str(label) for _kind, label, _url in response.context["tabs"]] == [
        "Chat",
        "Broadcast",
        "Company",
        "Ticket",
        "Sales",
        "Tasks",
    ]
    assert timeline_texts(response) == ["Ticket “Refund” created", "Alice Owner added the customer"]
    # and the edit page stays one click away
    assert f'href="/app/acme/customers/{budi.pk}/"' in html


def test_the_list_rows_actions_lead_to_view_details(acme, alice, budi, client_for) -> None:
    html = client_for(alice).get("/app/acme/customers/").content.decode()
    assert (
        f'href="/app/acme/customers/{budi.pk}/details/" data-testid="view-details">View details</a>' in html
    )


def test_a_deleted_customers_page_is_not_found(acme, alice, budi, client_for) -> None:
    customers_delete(workspace=acme, actor=alice, customer_ids=[budi.pk])
    assert client_for(alice).get(url("customer_detail", budi)).status_code == 404
    assert client_for(alice).get(url("customer_tab", budi, kind="ticket")).status_code == 404


def test_the_card_is_edited_in_place_and_the_timeline_says_so(acme, alice, budi, client_for) -> None:
    client = client_for(alice)
    # given the card turned into its form by the pencil
    form = client.get(url("customer_card_edit", budi), HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert 'data-testid="customer-card-form"' in form.content.decode()

    # when the status is changed and saved
    saved = client.post(
        url("customer_card_edit", budi), card_data(acme, budi, status="Prospect"), HTTP_HX_REQUEST="true"
    )

    # then the card shows the new value, the page is told to reload its activity, and the change is stored
    assert saved.status_code == 200
    assert ("Status", "Prospect") in saved.context["rows"]
    assert saved["HX-Trigger"] == "activity-changed"
    budi.refresh_from_db()
    assert budi.status == "Prospect"
    activity = client.get(url("customer_timeline", budi), HTTP_HX_REQUEST="true")
    assert timeline_texts(activity)[0] == "Alice Owner changed Status from Lead to Prospect"
    # and Cancel brings the card back without the form
    card = client.get(url("customer_card", budi), HTTP_HX_REQUEST="true")
    assert 'data-testid="customer-card"' in card.content.decode()


def test_a_wrong_field_is_shown_in_the_card_and_nothing_is_saved(acme, alice, budi, client_for) -> None:
    response = client_for(alice).post(
        url("customer_card_edit", budi), card_data(acme, budi, email="not-an-email"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["email"]
    assert 'data-testid="customer-card-form"' in response.content.decode()
    budi.refresh_from_db()
    assert budi.email == ""


def test_the_timeline_pages_older_lines_with_load_more(acme, alice, budi, client_for) -> None:
    # given 25 changes after the creation (26 lines)
    for number in range(25):
        record_create(
            workspace=acme, actor=alice, kind="task", data={"title": f"Call {number}"}, customer_ids=[budi.pk]
        )
    client = client_for(alice)
    first = client.get(url("customer_detail", budi))
    assert len(first.context["lines"]) == 20
    assert timeline_texts(first)[0] == "Task “Call 24” created"
    # when Load more is pressed
    more = client.get(first.context["more_url"], HTTP_HX_REQUEST="true")
    # then the six older lines come, the oldest last, with no further button
    assert timeline_texts(more) == [
        "Task “Call 4” created",
        "Task “Call 3” created",
        "Task “Call 2” created",
        "Task “Call 1” created",
        "Task “Call 0” created",
        "Alice Owner added the customer",
    ]
    assert more.context["more_url"] is None


def test_a_tab_has_its_own_url_the_whole_page_or_the_fragment(acme, alice, budi, client_for) -> None:
    client = client_for(alice)
    page = client.get(url("customer_tab", budi, kind="deal"))
    assert page.status_code == 200
    assert page.context["kind"] == "deal"
    assert b"<html" in page.content[:500]
    fragment = client.get(url("customer_tab", budi, kind="deal"), **HTMX_TAB)
    assert fragment.status_code == 200
    assert fragment.content.decode().lstrip().startswith('<div class="card" id="interactions"')
    assert url("customer_tab", budi, kind="deal").endswith("/details/deals/")


def _deal(acme, alice, budi, name: str, **data: str) -> Deal:
    record = record_create(
        workspace=acme, actor=alice, kind="deal", data={"name": name, **data}, customer_ids=[budi.pk]
    )
    assert isinstance(record, Deal)
    return record


def test_the_sales_tab_filters_by_approval_status_and_priority(acme, alice, bob, budi, client_for) -> None:
    _deal(acme, alice, budi, "Small order", approval_status="approved", priority="low")
    _deal(acme, alice, budi, "Big order", approval_status="approved", priority="urgent")
    _deal(acme, alice, budi, "Pending order", approval_status="waiting", priority="urgent")
    client = client_for(bob)

    approved = client.get(url("customer_tab", budi, kind="deal") + "?approval_status=approved", **HTMX_TAB)
    assert [row.title for row in approved.context["rows"]] == ["Big order", "Small order"]
    both = client.get(
        url("customer_tab", budi, kind="deal") + "?approval_status=approved&priority=urgent", **HTMX_TAB
    )
    assert [row.title for row in both.context["rows"]] == ["Big order"]
    # the panel shows what is ticked and chosen, and offers the article's filters
    controls = {control.name: control for control in both.context["controls"]}
    assert list(controls) == ["approval_status", "pipeline", "owner", "priority"]
    assert [option.value for option in controls["approval_status"].options if option.checked] == ["approved"]
    assert controls["approval_status"].checkboxes and not controls["priority"].checkboxes


def test_a_bad_filter_value_is_named_not_a_500(acme, alice, budi, client_for) -> None:
    response = client_for(alice).get(
        url("customer_tab", budi, kind="ticket") + "?sla=late&priority=x", **HTMX_TAB
    )
    assert response.status_code == 400
    assert response.context["errors"] == {
        "sla": "“late” is not one of: at_risk, breached, on_time.",
        "priority": "“x” is not one of: high, low, medium, urgent.",
    }


def test_the_tickets_tab_filters_by_sla_status(acme, alice, budi, client_for) -> None:
    now = timezone.now()
    record_create(
        workspace=acme,
        actor=alice,
        kind="ticket",
        data={"title": "Late", "due_at": (now - timedelta(hours=1)).isoformat()},
        customer_ids=[budi.pk],
    )
    record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "No rush"}, customer_ids=[budi.pk]
    )
    response = client_for(alice).get(url("customer_tab", budi, kind="ticket") + "?sla=breached", **HTMX_TAB)
    assert [row.title for row in response.context["rows"]] == ["Late"]


def test_the_broadcast_tab_hides_campaigns_older_than_twelve_months_and_says_so(
    acme, alice, budi, client_for
) -> None:
    now = timezone.now()
    for name, days in (("Ramadan promo", 400), ("Harbolnas", 10)):
        record_create(
            workspace=acme,
            actor=alice,
            kind="campaign",
            data={
                "name": name,
                "template_name": "promo",
                "sent_at": (now - timedelta(days=days)).isoformat(),
            },
            customer_ids=[budi.pk],
        )
    response = client_for(alice).get(url("customer_tab", budi, kind="campaign"), **HTMX_TAB)
    assert [row.title for row in response.context["rows"]] == ["Harbolnas"]
    assert "in the last 12 months. Older campaigns are not shown here." in response.content.decode()
    # and the old one is still in the database
    assert Campaign.objects.for_workspace(acme).filter(name="Ramadan promo").exists()


def test_the_picker_finds_this_workspaces_records_only(
    acme, alice, budi, globex, charlie, client_for
) -> None:
    # given a ticket in acme and one, named alike, in globex
    ours = record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Refund request"})
    theirs = record_create(workspace=globex, actor=charlie, kind="ticket", data={"title": "Refund globex"})

    # when alice types "Refund" in the ticket tab's picker
    response = client_for(alice).get(url("customer_tab_picker", budi, kind="ticket") + "?q=Refund")

    # then only acme's ticket is offered
    assert response.context["found"] == [(ours.pk, "Refund request")]
    assert "Refund globex" not in response.content.decode()
    # and associating globex's ticket by its id is "not found", nothing stored
    refused = client_for(alice).post(
        url("customer_tab_associate", budi, kind="ticket"), {"record": theirs.pk}
    )
    assert refused.status_code == 404
    assert TicketCustomer.objects.for_workspace(acme).count() == 0


def test_associate_an_existing_ticket_then_remove_it(acme, alice, bob, budi, client_for) -> None:
    ticket = record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"})
    client = client_for(bob)

    # when bob associates it from the picker
    added = client.post(url("customer_tab_associate", budi, kind="ticket"), {"record": ticket.pk}, **HTMX_TAB)

    # then the tab lists it, says so, and the page reloads its activity
    assert added.status_code == 200
    assert [row.title for row in added.context["rows"]] == ["Refund"]
    assert added.context["notice"] == "Associated."
    assert added["HX-Trigger"] == "activity-changed"
    activity = client.get(url("customer_timeline", budi))
    assert timeline_texts(activity)[0] == "Ticket “Refund” associated"
    assert [total for _label, total, _url in activity.context["counts"]] == [0, 1, 0, 0]

    # when bob removes it from the tab (after the confirmation)
    removed = client.post(url("customer_tab_remove", budi, kind="ticket", record_id=ticket.pk), **HTMX_TAB)

    # then it is gone from the customer, not from the workspace
    assert removed.status_code == 200
    assert removed.context["rows"] == []
    assert removed.context["notice"] == "No longer associated."
    assert not TicketCustomer.objects.for_workspace(acme).exists()
    assert Ticket.objects.for_workspace(acme).filter(pk=ticket.pk).exists()
    assert (
        timeline_texts(client.get(url("customer_timeline", budi)))[0]
        == "Ticket “Refund” no longer associated"
    )


def test_create_new_from_a_tab_is_associated_with_the_customer(acme, alice, budi, client_for) -> None:
    client = client_for(alice)
    form = client.get(url("customer_tab_new", budi, kind="task"), HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert list(form.context["form"].fields) == [
        "title",
        "status",
        "stage",
        "assignee",
        "priority",
        "due_date",
    ]

    created = client.post(
        url("customer_tab_new", budi, kind="task"),
        {
            "title": "Send the invoice",
            "status": "todo",
            "stage": "",
            "assignee": "",
            "priority": "high",
            "due_date": "",
        },
        HTTP_HX_REQUEST="true",
    )
    assert created.status_code == 200
    assert created["HX-Retarget"] == "#interactions"
    assert [row.title for row in created.context["rows"]] == ["Send the invoice"]
    task = Task.objects.for_workspace(acme).get(title="Send the invoice")
    assert task.priority == "high"
    assert task.stage.name == "To plan"
    assert list(TaskCustomer.objects.for_workspace(acme).values_list("record_id", "customer_id")) == [
        (task.pk, budi.pk)
    ]


def test_create_new_shows_the_cleaners_errors_on_the_form(acme, alice, budi, client_for) -> None:
    response = client_for(alice).post(
        url("customer_tab_new", budi, kind="deal"),
        {"name": "", "amount": "-5", "approval_status": "maybe"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["This field is required."],
        "amount": ["Write a whole, positive number of rupiah, like 1500000."],
        "approval_status": ["“maybe” is not one of: approved, none, rejected, waiting."],
    }
    assert not Deal.objects.for_workspace(acme).exists()


def _endpoints(budi: Customer, ticket_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", url("customer_detail", budi), {}),
        ("get", url("customer_card", budi), {}),
        ("get", url("customer_card_edit", budi), {}),
        ("post", url("customer_card_edit", budi), {"full_name": "Hacked"}),
        ("get", url("customer_timeline", budi), {}),
        ("get", url("customer_tab", budi, kind="ticket"), {}),
        ("get", url("customer_tab_picker", budi, kind="ticket") + "?q=Re", {}),
        ("post", url("customer_tab_associate", budi, kind="ticket"), {"record": ticket_id}),
        ("get", url("customer_tab_new", budi, kind="ticket"), {}),
        ("post", url("customer_tab_new", budi, kind="ticket"), {"title": "Hacked"}),
        ("post", url("customer_tab_remove", budi, kind="ticket", record_id=ticket_id), {}),
    ]


def test_an_outsider_gets_404_everywhere_and_changes_nothing(
    acme, alice, budi, globex, charlie, client_for
) -> None:
    # given a ticket of budi's and one waiting to be associated
    associated = record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"}, customer_ids=[budi.pk]
    )
    free = record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Return"})
    before = (
        TimelineEntry.objects.for_workspace(acme).count(),
        TicketCustomer.objects.for_workspace(acme).count(),
        Ticket.objects.for_workspace(acme).count(),
    )
    client = client_for(charlie)
    for method, path, data in _endpoints(budi, free.pk) + _endpoints(budi, associated.pk):
        response = getattr(client, method)(path, data)
        assert response.status_code == 404, (method, path)
    budi.refresh_from_db()
    assert budi.full_name == "Budi Santoso"
    assert (
        TimelineEntry.objects.for_workspace(acme).count(),
        TicketCustomer.objects.for_workspace(acme).count(),
        Ticket.objects.for_workspace(acme).count(),
    ) == before


def test_every_endpoint_answers_the_owner_and_the_agent(acme, alice, bob, budi, client_for) -> None:
    ticket = record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"})
    for user in (alice, bob):
        client = client_for(user)
        for method, path, data in _endpoints(budi, ticket.pk):
            if path.endswith("card/edit/") and method == "post":
                data = card_data(acme, Customer.objects.for_workspace(acme).get(pk=budi.pk))
            response = getattr(client, method)(path, data, HTTP_HX_REQUEST="true")
            assert response.status_code == 200, (user.email, method, path, response.status_code)
    # each associated and removed it once, and each created one ticket for budi
    assert Ticket.objects.for_workspace(acme).filter(title="Hacked").count() == 2
    assert list(TicketCustomer.objects.for_workspace(acme).values_list("record__title", flat=True)) == [
        "Hacked",
        "Hacked",
    ]
