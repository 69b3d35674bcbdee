"""Interaction records: default pipelines, creating and changing records, associations, messages, the customer's
tabs with their filters, the activity counts and the picker; every write audited and on the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict

from relasi.core.models import AuditLog
from relasi.core.pagination import InvalidCursor
from relasi.customers.models import TimelineEntry
from relasi.customers.services import customer_create
from relasi.interactions.filters import FilterError, SlaStatus, TabFilters, tab_filters_parse
from relasi.interactions.models import Conversation, Message, Pipeline, Stage, Ticket, TicketCustomer
from relasi.interactions.selectors import (
    conversation_messages_page,
    customer_activity_counts,
    customer_records,
    pipelines_of_kind,
    record_picker_search,
    records_page,
    sla_status,
)
from relasi.interactions.services import (
    association_add,
    association_remove,
    message_add,
    record_create,
    record_update,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


@pytest.fixture
def budi(acme, alice):
    return customer_create(workspace=acme, actor=alice, data={"full_name": "Budi Santoso"})


def _timeline(workspace, customer) -> list[str]:
    rows = TimelineEntry.objects.for_workspace(workspace).filter(customer=customer).order_by("id")
    return [entry.action for entry in rows]


def test_a_new_workspace_has_a_pipeline_with_stages_for_tickets_deals_and_tasks(acme) -> None:
    pipelines = Pipeline.objects.for_workspace(acme)
    assert sorted(pipelines.values_list("kind", "name")) == [
        ("deal", "Sales"),
        ("task", "Follow-up"),
        ("ticket", "Support"),
    ]
    support = pipelines.get(kind="ticket")
    assert list(support.stages.values_list("name", flat=True)) == [
        "New",
        "In progress",
        "Waiting on customer",
        "Resolved",
    ]


def test_a_ticket_created_for_a_customer_is_audited_associated_and_on_its_timeline(
    acme, alice, bob, budi
) -> None:
    # when alice opens a ticket for budi, assigned to bob
    ticket = record_create(
        workspace=acme,
        actor=alice,
        kind="ticket",
        data={"title": "Refund not received", "assignee": str(bob.pk), "priority": "high"},
        customer_ids=[budi.pk],
    )
    # then it starts in the first stage of the default pipeline, associated with budi
    assert isinstance(ticket, Ticket)
    assert (ticket.pipeline.name, ticket.stage.name, ticket.priority, ticket.assignee_id) == (
        "Support",
        "New",
        "high",
        bob.pk,
    )
    assert list(TicketCustomer.objects.for_workspace(acme).values_list("customer_id", flat=True)) == [budi.pk]
    assert _timeline(acme, budi) == ["customer.created", "ticket.created"]
    actions = set(AuditLog.objects.filter(workspace=acme).values_list("action", flat=True))
    assert {"ticket.created", "association.added"} <= actions


def test_bad_values_are_refused_per_field_and_nothing_is_stored(acme, alice, charlie, budi) -> None:
    with pytest.raises(ValidationError) as refused:
        record_create(
            workspace=acme,
            actor=alice,
            kind="deal",
            data={"name": "", "amount": "-5", "owner": str(charlie.pk), "priority": "huge", "colour": "red"},
        )
    assert refused.value.message_dict == {
        "colour": ["There is no such field."],
        "name": ["This field is required."],
        "amount": ["Write a whole, positive number of rupiah, like 1500000."],
        "owner": ["Choose a member of this workspace."],
        "priority": ["“huge” is not one of: high, low, medium, urgent."],
    }
    assert not AuditLog.objects.filter(workspace=acme, action="deal.created").exists()


def test_a_stage_of_another_workspace_is_refused(acme, alice, globex) -> None:
    foreign = Stage.objects.for_workspace(globex).filter(pipeline__kind="ticket").first()
    assert foreign is not None
    with pytest.raises(ValidationError) as refused:
        record_create(
            workspace=acme, actor=alice, kind="ticket", data={"title": "x", "stage": str(foreign.pk)}
        )
    assert list(refused.value.message_dict) == ["stage"]
    assert not Ticket.objects.for_workspace(acme).exists()


def test_a_customer_of_another_workspace_cannot_be_associated(acme, alice, globex, charlie) -> None:
    theirs = customer_create(workspace=globex, actor=charlie, data={"full_name": "Joko"})
    with pytest.raises(ValidationError):
        record_create(
            workspace=acme, actor=alice, kind="company", data={"name": "PT Maju"}, customer_ids=[theirs.pk]
        )
    company = record_create(workspace=acme, actor=alice, kind="company", data={"name": "PT Maju"})
    with pytest.raises(ValidationError):
        association_add(
            workspace=acme, actor=alice, kind="company", record_id=company.pk, customer_id=theirs.pk
        )
    # and another workspace's record is not found from acme
    with pytest.raises(Http404):
        association_add(
            workspace=globex, actor=charlie, kind="company", record_id=company.pk, customer_id=theirs.pk
        )
    assert _timeline(globex, theirs) == ["customer.created"]


def test_an_update_writes_its_changes_on_every_associated_customers_timeline(acme, alice, budi) -> None:
    sari = customer_create(workspace=acme, actor=alice, data={"full_name": "Sari"})
    task = record_create(
        workspace=acme, actor=alice, kind="task", data={"title": "Call back"}, customer_ids=[budi.pk]
    )
    association_add(workspace=acme, actor=alice, kind="task", record_id=task.pk, customer_id=sari.pk)
    # when the task is done
    record_update(workspace=acme, actor=alice, kind="task", record_id=task.pk, data={"status": "done"})
    # then both customers see it, with the change
    assert _timeline(acme, budi) == ["customer.created", "task.created", "task.updated"]
    assert _timeline(acme, sari) == ["customer.created", "association.added", "task.updated"]
    entry = TimelineEntry.objects.for_workspace(acme).filter(customer=sari, action="task.updated").get()
    assert entry.summary == {"title": "Call back", "changes": {"status": ["todo", "done"]}}
    # and a save that changes nothing writes nothing
    record_update(workspace=acme, actor=alice, kind="task", record_id=task.pk, data={"status": "done"})
    assert TimelineEntry.objects.for_workspace(acme).filter(action="task.updated").count() == 2


def test_associating_twice_is_one_association_and_removing_is_audited(acme, alice, budi) -> None:
    deal = record_create(
        workspace=acme, actor=alice, kind="deal", data={"name": "50 seats", "amount": "15000000"}
    )
    assert association_add(workspace=acme, actor=alice, kind="deal", record_id=deal.pk, customer_id=budi.pk)
    assert not association_add(
        workspace=acme, actor=alice, kind="deal", record_id=deal.pk, customer_id=budi.pk
    )
    assert association_remove(
        workspace=acme, actor=alice, kind="deal", record_id=deal.pk, customer_id=budi.pk
    )
    assert not association_remove(
        workspace=acme, actor=alice, kind="deal", record_id=deal.pk, customer_id=budi.pk
    )
    assert _timeline(acme, budi) == ["customer.created", "association.added", "association.removed"]
    assert AuditLog.objects.filter(workspace=acme, action="association.removed").count() == 1


def test_a_message_delivered_twice_is_stored_once_and_counted_once(acme, alice, budi) -> None:
    conversation = record_create(
        workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp"}, customer_ids=[budi.pk]
    )
    sent = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    first, created = message_add(
        workspace=acme,
        actor=None,
        conversation_id=conversation.pk,
        direction="inbound",
        text="Halo",
        sent_at=sent,
        provider_message_id="wamid.1",
    )
    again, created_again = message_add(
        workspace=acme,
        actor=None,
        conversation_id=conversation.pk,
        direction="inbound",
        text="Halo",
        sent_at=sent,
        provider_message_id="wamid.1",
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    conversation = Conversation.objects.for_workspace(acme).get(pk=conversation.pk)
    assert (conversation.messages_count, conversation.last_message_at) == (1, sent)
    assert Message.objects.for_workspace(acme).count() == 1
    assert _timeline(acme, budi) == ["customer.created", "conversation.created", "message.received"]


@pytest.mark.parametrize(
    ("due", "resolved", "status"),
    [
        (None, None, SlaStatus.ON_TIME),
        (NOW + timedelta(hours=5), None, SlaStatus.ON_TIME),
        (NOW + timedelta(hours=3), None, SlaStatus.AT_RISK),
        (NOW - timedelta(minutes=1), None, SlaStatus.BREACHED),
        (NOW - timedelta(hours=1), NOW - timedelta(hours=2), SlaStatus.ON_TIME),
        (NOW - timedelta(hours=2), NOW - timedelta(hours=1), SlaStatus.BREACHED),
    ],
)
def test_the_sla_status_and_its_filter_agree(acme, alice, budi, due, resolved, status) -> None:
    # given a ticket with that due time and resolution
    data = {"title": "t"}
    if due is not None:
        data["due_at"] = due.isoformat()
    if resolved is not None:
        data["resolved_at"] = resolved.isoformat()
    ticket = record_create(workspace=acme, actor=alice, kind="ticket", data=data, customer_ids=[budi.pk])
    # then the derived status is the expected one, and the tab's filter finds it under that status only
    assert sla_status(due_at=ticket.due_at, resolved_at=ticket.resolved_at, now=NOW) == status
    found = {
        option: list(
            customer_records(
                workspace=acme, customer=budi, kind="ticket", filters=TabFilters(sla=(option,)), now=NOW
            ).values_list("pk", flat=True)
        )
        for option in SlaStatus.ALL
    }
    assert found == {option: [ticket.pk] if option == status else [] for option in SlaStatus.ALL}


def test_tab_filters_and_counts(acme, alice, bob, budi) -> None:
    record_create(
        workspace=acme,
        actor=alice,
        kind="deal",
        data={"name": "A", "priority": "high"},
        customer_ids=[budi.pk],
    )
    low = record_create(
        workspace=acme,
        actor=alice,
        kind="deal",
        data={"name": "B", "owner": str(bob.pk)},
        customer_ids=[budi.pk],
    )
    record_create(workspace=acme, actor=alice, kind="deal", data={"name": "C"})
    for status in ("open", "resolved"):
        record_create(
            workspace=acme,
            actor=alice,
            kind="conversation",
            data={"channel": "instagram", "status": status},
            customer_ids=[budi.pk],
        )
    deals = customer_records(workspace=acme, customer=budi, kind="deal", filters=TabFilters(owner=(bob.pk,)))
    assert list(deals.values_list("pk", flat=True)) == [low.pk]
    open_chats = customer_records(
        workspace=acme, customer=budi, kind="conversation", filters=TabFilters(status=("open",))
    )
    assert list(open_chats.values_list("status", flat=True)) == ["open"]
    assert customer_activity_counts(workspace=acme, customer=budi) == {
        "conversation": 2,
        "ticket": 0,
        "deal": 2,
        "task": 0,
    }


def test_the_campaigns_tab_shows_the_last_twelve_months_only(acme, alice, budi) -> None:
    recent = record_create(
        workspace=acme,
        actor=alice,
        kind="campaign",
        data={
            "name": "Promo",
            "template_name": "promo_nov",
            "sent_at": (NOW - timedelta(days=300)).isoformat(),
        },
        customer_ids=[budi.pk],
    )
    record_create(
        workspace=acme,
        actor=alice,
        kind="campaign",
        data={
            "name": "Old",
            "template_name": "promo_2024",
            "sent_at": (NOW - timedelta(days=400)).isoformat(),
        },
        customer_ids=[budi.pk],
    )
    shown = customer_records(workspace=acme, customer=budi, kind="campaign", now=NOW)
    assert list(shown.values_list("pk", flat=True)) == [recent.pk]


def test_the_picker_finds_this_workspaces_records_not_yet_associated(
    acme, alice, globex, charlie, budi
) -> None:
    linked = record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "Refund A"}, customer_ids=[budi.pk]
    )
    free = record_create(workspace=acme, actor=alice, kind="ticket", data={"title": "Refund B"})
    record_create(workspace=globex, actor=charlie, kind="ticket", data={"title": "Refund C"})
    found = record_picker_search(workspace=acme, kind="ticket", query="refund", customer=budi)
    assert [record.pk for record in found] == [free.pk]
    assert linked.pk not in [record.pk for record in found]


def test_the_records_of_a_kind_page_both_ways_with_their_filters(acme, alice, globex, charlie) -> None:
    # given 5 urgent tasks and 2 low ones in acme, and one urgent task in globex
    urgent = [
        record_create(workspace=acme, actor=alice, kind="task", data={"title": f"U{n}", "priority": "urgent"})
        for n in range(5)
    ]
    for n in range(2):
        record_create(workspace=acme, actor=alice, kind="task", data={"title": f"L{n}", "priority": "low"})
    record_create(
        workspace=globex, actor=charlie, kind="task", data={"title": "theirs", "priority": "urgent"}
    )
    only_urgent = TabFilters(priority=("urgent",))
    # when acme reads them 2 at a time
    first = records_page(workspace=acme, kind="task", filters=only_urgent, limit=2)
    second = records_page(workspace=acme, kind="task", filters=only_urgent, cursor=first.next_cursor, limit=2)
    back = records_page(
        workspace=acme, kind="task", filters=only_urgent, cursor=second.previous_cursor, limit=2
    )
    # then the newest urgent tasks of acme come first, and going back gives the first page again
    newest_first = [task.pk for task in reversed(urgent)]
    assert [task.pk for task in first.items] == newest_first[:2]
    assert [task.pk for task in second.items] == newest_first[2:4]
    assert [task.pk for task in back.items] == newest_first[:2]
    # and a cursor of another filter is refused
    with pytest.raises(InvalidCursor):
        records_page(workspace=acme, kind="task", cursor=first.next_cursor, limit=2)


def test_a_conversations_messages_read_oldest_first(acme, alice) -> None:
    conversation = record_create(
        workspace=acme, actor=alice, kind="conversation", data={"channel": "whatsapp"}
    )
    for minute in (3, 1, 2):
        message_add(
            workspace=acme,
            actor=alice,
            conversation_id=conversation.pk,
            direction="outbound",
            text=f"m{minute}",
            sent_at=NOW + timedelta(minutes=minute),
        )
    page = conversation_messages_page(workspace=acme, conversation=conversation)
    assert [message.text for message in page.items] == ["m1", "m2", "m3"]
    assert {message.author_id for message in page.items} == {alice.pk}


def test_pipelines_of_a_kind_come_with_their_stages_in_order(acme) -> None:
    [sales] = pipelines_of_kind(workspace=acme, kind="deal")
    assert [stage.name for stage in sales.stages.all()] == [
        "Qualification",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]


def test_filters_are_read_from_query_parameters_and_bad_values_named() -> None:
    params = QueryDict(
        "priority=high&priority=urgent&priority=high&assignee=7&status=todo&channel=email&colour=red"
    )
    # channel is not a filter of tasks: ignored, as any other parameter of the page
    assert tab_filters_parse(params, kind="task") == TabFilters(
        status=("todo",), priority=("high", "urgent"), assignee=(7,)
    )
    with pytest.raises(FilterError) as refused:
        tab_filters_parse(
            QueryDict("sla=late&pipeline=x1&priority=" + "&priority=".join(["low"] * 51)), kind="ticket"
        )
    assert refused.value.errors == {
        "sla": "“late” is not one of: at_risk, breached, on_time.",
        "pipeline": "“x1” is not an id.",
        "priority": "At most 50 values.",
    }


def test_ids_that_only_look_like_digits_are_refused_not_a_crash(acme, alice) -> None:
    with pytest.raises(FilterError) as refused:
        tab_filters_parse(QueryDict("pipeline=²"), kind="ticket")
    assert refused.value.errors == {"pipeline": "“²” is not an id."}
    with pytest.raises(ValidationError) as refused_field:
        record_create(workspace=acme, actor=alice, kind="task", data={"title": "t", "assignee": "１"})
    assert refused_field.value.message_dict == {"assignee": ["“１” is not an id."]}


def test_an_optional_choice_can_be_emptied_and_a_customer_named_twice_is_associated_once(
    acme, alice, budi
) -> None:
    company = record_create(
        workspace=acme,
        actor=alice,
        kind="company",
        data={"name": "PT Maju", "size": "11-50"},
        customer_ids=[budi.pk, str(budi.pk)],
    )
    assert list(company.associations.values_list("customer_id", flat=True)) == [budi.pk]
    record_update(workspace=acme, actor=alice, kind="company", record_id=company.pk, data={"size": ""})
    company.refresh_from_db()
    assert company.size == ""
    # a status cannot be emptied: it goes back to its first option
    task = record_create(workspace=acme, actor=alice, kind="task", data={"title": "t", "status": "done"})
    record_update(workspace=acme, actor=alice, kind="task", record_id=task.pk, data={"status": ""})
    task.refresh_from_db()
    assert task.status == "todo"
