"""The customer's tabs in the API: /api/v1/customers/{id}/timeline, /activity and /associations, with alice
(owner), bob (agent), an API key, and the outsiders charlie and the globex key (404, nothing changed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from relasi.core.models import AuditLog
from relasi.customers.models import TimelineEntry
from relasi.customers.services import customer_create
from relasi.interactions.models import DealCustomer, TicketCustomer
from relasi.interactions.services import association_add, record_create, record_update
from tests.interactions import test_api_records as records
from tests.interactions.test_api_records import NOT_FOUND, post

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
# The three ways into acme: its owner's session, its agent's session, its API key.
callers = records.callers


@pytest.fixture
def budi(acme, alice):
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        return customer_create(workspace=acme, actor=alice, data={"full_name": "Budi Santoso"})


# --- Timeline ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["alice", "bob", "key"])
def test_the_timeline_shows_each_change_newest_first_with_who_did_it(
    acme, alice, bob, budi, callers, caller
) -> None:
    # given a ticket bob opened for budi, which alice then raised to urgent
    with time_machine.travel(NOW, tick=False):
        ticket = record_create(
            workspace=acme, actor=bob, kind="ticket", data={"title": "Refund"}, customer_ids=[budi.pk]
        )
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        record_update(
            workspace=acme, actor=alice, kind="ticket", record_id=ticket.pk, data={"priority": "urgent"}
        )
    client, headers = callers[caller]
    # when the caller reads budi's timeline
    response = client.get(f"/api/v1/customers/{budi.pk}/timeline", **headers)
    # then each line says when, who, what, on which record, and what changed
    ids = list(
        TimelineEntry.objects.for_workspace(acme)
        .filter(customer=budi)
        .order_by("-at")
        .values_list("pk", flat=True)
    )
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": ids[0],
                "at": "2026-11-29T03:05:00Z",
                "actor": "alice@acme.test",
                "action": "ticket.updated",
                "record_kind": "ticket",
                "record_id": ticket.pk,
                "summary": {"title": "Refund", "changes": {"priority": ["medium", "urgent"]}},
            },
            {
                "id": ids[1],
                "at": "2026-11-29T03:00:00Z",
                "actor": "bob@acme.test",
                "action": "ticket.created",
                "record_kind": "ticket",
                "record_id": ticket.pk,
                "summary": {"title": "Refund"},
            },
            {
                "id": ids[2],
                "at": "2026-11-29T02:00:00Z",
                "actor": "alice@acme.test",
                "action": "customer.created",
                "record_kind": None,
                "record_id": None,
                "summary": {"name": "Budi Santoso"},
            },
        ],
        "next_cursor": None,
        "previous_cursor": None,
        "position": 0,
    }


def test_the_timeline_pages_both_ways(acme, alice, budi, acme_key) -> None:
    # given budi's creation and five tasks, a minute apart
    for index in range(5):
        with time_machine.travel(NOW + timedelta(minutes=index), tick=False):
            record_create(
                workspace=acme, actor=alice, kind="task", data={"title": f"T{index}"}, customer_ids=[budi.pk]
            )
    url = f"/api/v1/customers/{budi.pk}/timeline"

    def titles(page: dict[str, Any]) -> list[str]:
        return [line["summary"].get("title", line["action"]) for line in page["items"]]

    # when paging two lines at a time, forward then back
    first = Client().get(url, {"limit": 2}, **acme_key).json()
    second = Client().get(url, {"limit": 2, "cursor": first["next_cursor"]}, **acme_key).json()
    third = Client().get(url, {"limit": 2, "cursor": second["next_cursor"]}, **acme_key).json()
    back = Client().get(url, {"limit": 2, "cursor": third["previous_cursor"]}, **acme_key).json()
    # then every line is seen once, newest first
    assert (titles(first), first["previous_cursor"]) == (["T4", "T3"], None)
    assert (titles(second), second["position"]) == (["T2", "T1"], 2)
    assert (titles(third), third["position"], third["next_cursor"]) == (["T0", "customer.created"], 4, None)
    assert (titles(back), back["position"]) == (["T2", "T1"], 2)
    # and 20 lines make a page when no limit is given
    assert Client().get(url, **acme_key).json()["next_cursor"] is None
    wrong = Client().get(url, {"cursor": "nonsense"}, **acme_key)
    assert (wrong.status_code, wrong.json()["type"]) == (400, "https://relasi.dev/problems/invalid-cursor")


# --- Activity counts ------------------------------------------------------------------------------------


def test_the_activity_counts(acme, alice, budi, callers) -> None:
    for kind, data in [
        ("conversation", {"channel": "whatsapp"}),
        ("conversation", {"channel": "email"}),
        ("ticket", {"title": "Refund"}),
        ("task", {"title": "Call"}),
        ("company", {"name": "PT X"}),
    ]:
        record_create(workspace=acme, actor=alice, kind=kind, data=data, customer_ids=[budi.pk])
    record_create(workspace=acme, actor=alice, kind="deal", data={"name": "Not budi's"})
    for client, headers in callers.values():
        response = client.get(f"/api/v1/customers/{budi.pk}/activity", **headers)
        assert (response.status_code, response.json()) == (
            200,
            {"conversations": 2, "tickets": 1, "deals": 0, "tasks": 1},
        )


# --- Associations --------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["alice", "bob", "key"])
def test_associating_an_existing_record_is_201_then_200_and_taking_it_off_204_then_404(
    acme, alice, budi, callers, caller
) -> None:
    deal = record_create(workspace=acme, actor=alice, kind="deal", data={"name": "500 seats"})
    client, headers = callers[caller]
    url = f"/api/v1/customers/{budi.pk}/associations"
    body = {"customer_id": budi.pk, "kind": "deal", "record_id": deal.pk}
    # when the caller associates the deal with budi, twice
    first = post(client, url, {"kind": "deal", "record_id": deal.pk}, headers)
    again = post(client, url, {"kind": "deal", "record_id": deal.pk}, headers)
    # then the first makes the association, the second finds it
    assert [(first.status_code, first.json()), (again.status_code, again.json())] == [
        (201, body),
        (200, body),
    ]
    assert list(DealCustomer.objects.for_workspace(acme).values_list("customer_id", flat=True)) == [budi.pk]
    assert client.get("/api/v1/deals", {"customer": budi.pk}, **headers).json()["items"][0]["id"] == deal.pk
    # and it is taken off once; a second time there is nothing to take off
    removed = client.delete(f"{url}/deal/{deal.pk}", **headers)
    missing = client.delete(f"{url}/deal/{deal.pk}", **headers)
    assert (removed.status_code, removed.content) == (204, b"")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    assert not DealCustomer.objects.for_workspace(acme).exists()
    actions = list(
        AuditLog.objects.filter(workspace=acme, action__startswith="association.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["association.added", "association.removed"]


def test_a_kind_or_record_that_does_not_exist_is_a_404_or_a_422(acme, alice, budi, acme_key) -> None:
    url = f"/api/v1/customers/{budi.pk}/associations"
    assert Client().delete(f"{url}/widget/1", **acme_key).json() == NOT_FOUND
    assert Client().delete(f"{url}/ticket/999999", **acme_key).json() == NOT_FOUND
    assert post(Client(), url, {"kind": "ticket", "record_id": 999999}, acme_key).json() == NOT_FOUND
    unknown_kind = post(Client(), url, {"kind": "widget", "record_id": 1}, acme_key)
    assert (unknown_kind.status_code, list(unknown_kind.json()["errors"])) == (422, ["kind"])


def test_a_deleted_customer_is_a_404(acme, alice, budi, acme_key) -> None:
    from relasi.customers.services import customers_delete

    customers_delete(workspace=acme, actor=alice, customer_ids=[budi.pk])
    for path in ("timeline", "activity"):
        assert Client().get(f"/api/v1/customers/{budi.pk}/{path}", **acme_key).status_code == 404
    assert Client().get("/api/v1/tickets", {"customer": budi.pk}, **acme_key).status_code == 404


# --- Outsiders ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["globex_key", "charlie"])
def test_an_outsider_gets_404_on_every_tab_and_changes_nothing(
    request, acme, alice, budi, globex, charlie, client_for, outsider
) -> None:
    # given budi with a ticket, an unassociated deal of acme, and a customer and a ticket of globex
    ticket = record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"}, customer_ids=[budi.pk]
    )
    deal = record_create(workspace=acme, actor=alice, kind="deal", data={"name": "Seats"})
    gina = customer_create(workspace=globex, actor=charlie, data={"full_name": "Gina Globex"})
    theirs = record_create(workspace=globex, actor=charlie, kind="ticket", data={"title": "Theirs"})
    if outsider == "charlie":
        client, headers = client_for(charlie), {"HTTP_X_WORKSPACE": "globex"}
    else:
        client, headers = Client(), request.getfixturevalue("globex_key")
    audit_before = AuditLog.objects.filter(workspace=acme).count()
    timeline_before = TimelineEntry.objects.for_workspace(acme).count()
    customer = f"/api/v1/customers/{budi.pk}"
    # when the outsider reads acme's customer's tabs and changes its associations
    answers = [
        client.get(f"{customer}/timeline", **headers),
        client.get(f"{customer}/activity", **headers),
        post(client, f"{customer}/associations", {"kind": "deal", "record_id": deal.pk}, headers),
        client.delete(f"{customer}/associations/ticket/{ticket.pk}", **headers),
        # and associates acme's deal with its own customer
        post(
            client,
            f"/api/v1/customers/{gina.pk}/associations",
            {"kind": "deal", "record_id": deal.pk},
            headers,
        ),
    ]
    # then each is a 404 and nothing changed
    assert [(answer.status_code, answer.json()) for answer in answers] == [(404, NOT_FOUND)] * len(answers)
    assert list(TicketCustomer.objects.for_workspace(acme).values_list("customer_id", flat=True)) == [budi.pk]
    assert not DealCustomer.objects.for_workspace(acme).exists()
    assert AuditLog.objects.filter(workspace=acme).count() == audit_before
    assert TimelineEntry.objects.for_workspace(acme).count() == timeline_before
    # and acme cannot reach globex's ticket either
    association_add(workspace=globex, actor=charlie, kind="ticket", record_id=theirs.pk, customer_id=gina.pk)
    acme_answer = post(
        Client(),
        f"{customer}/associations",
        {"kind": "ticket", "record_id": theirs.pk},
        request.getfixturevalue("acme_key"),
    )
    assert (acme_answer.status_code, acme_answer.json()) == (404, NOT_FOUND)
    assert list(TicketCustomer.objects.for_workspace(globex).values_list("customer_id", flat=True)) == [
        gina.pk
    ]
