"""The customer activity timeline as customers' own changes write it (records add theirs in relasi.interactions)."""

from __future__ import annotations

import pytest
from django.db import transaction

from relasi.core.pagination import InvalidCursor
from relasi.customers.models import TimelineEntry
from relasi.customers.selectors import customer_timeline_page
from relasi.customers.services import customer_create, customer_update, customers_delete, customers_restore
from relasi.customers.timeline import timeline_record

pytestmark = pytest.mark.django_db


def _actions(workspace, customer) -> list[str]:
    page = customer_timeline_page(workspace=workspace, customer=customer, cursor=None)
    return [entry.action for entry in page.items]


def test_create_update_delete_and_restore_each_write_one_line_newest_first(acme, alice) -> None:
    # given a customer alice adds, renames, deletes and restores
    customer = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Budi", "phone": "0812-3456-7890"}
    )
    customer_update(workspace=acme, actor=alice, customer_id=customer.pk, data={"full_name": "Budi Santoso"})
    customers_delete(workspace=acme, actor=alice, customer_ids=[customer.pk])
    customers_restore(workspace=acme, actor=alice, customer_ids=[customer.pk])
    # then the timeline shows the four, newest first, each with who did it
    assert _actions(acme, customer) == [
        "customer.restored",
        "customer.deleted",
        "customer.updated",
        "customer.created",
    ]
    entries = list(TimelineEntry.objects.for_workspace(acme).filter(customer=customer).order_by("id"))
    assert {entry.actor_label for entry in entries} == {"alice@acme.test"}
    assert entries[0].summary == {"name": "Budi"}
    assert entries[1].summary == {"changes": {"full_name": ["Budi", "Budi Santoso"]}}


def test_a_save_that_changes_nothing_writes_no_line(acme, alice) -> None:
    customer = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi"})
    customer_update(workspace=acme, actor=alice, customer_id=customer.pk, data={"full_name": "Budi"})
    assert _actions(acme, customer) == ["customer.created"]


def test_the_timeline_pages_both_ways(acme, alice) -> None:
    # given 25 lines (one create and 24 renames)
    customer = customer_create(workspace=acme, actor=alice, data={"full_name": "Name 0"})
    for number in range(1, 25):
        customer_update(
            workspace=acme, actor=alice, customer_id=customer.pk, data={"full_name": f"Name {number}"}
        )
    # when the first page (20) and the next (5) are read
    first = customer_timeline_page(workspace=acme, customer=customer, cursor=None)
    assert first.next_cursor is not None
    second = customer_timeline_page(workspace=acme, customer=customer, cursor=first.next_cursor)
    # then they hold the 25 lines once each, newest first
    names = [entry.summary["changes"]["full_name"][1] for entry in [*first.items, *second.items][:24]]
    assert names == [f"Name {number}" for number in range(24, 0, -1)]
    assert [entry.action for entry in second.items][-1] == "customer.created"
    assert len(first.items) == 20
    assert len(second.items) == 5


def test_a_cursor_of_another_customers_timeline_is_refused(acme, alice) -> None:
    budi = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi"})
    sari = customer_create(workspace=acme, actor=alice, data={"full_name": "Sari"})
    for number in range(21):
        customer_update(
            workspace=acme, actor=alice, customer_id=budi.pk, data={"full_name": f"Budi {number}"}
        )
    budi_page = customer_timeline_page(workspace=acme, customer=budi, cursor=None)
    assert budi_page.next_cursor is not None
    with pytest.raises(InvalidCursor):
        customer_timeline_page(workspace=acme, customer=sari, cursor=budi_page.next_cursor)


def test_the_timeline_of_another_workspace_is_not_mixed_in(acme, alice, globex, charlie) -> None:
    # given a customer in each workspace
    ours = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi"})
    customer_create(workspace=globex, actor=charlie, data={"full_name": "Joko"})
    # when acme reads its timeline, only its own line is there; globex cannot read acme's customer
    assert _actions(acme, ours) == ["customer.created"]
    page = customer_timeline_page(workspace=globex, customer=ours, cursor=None)
    assert page.items == []


@pytest.mark.django_db(transaction=True)
def test_a_line_is_written_only_inside_the_change_transaction(acme, alice) -> None:
    customer = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi"})
    with pytest.raises(RuntimeError):
        timeline_record(workspace=acme, customer_ids=[customer.pk], actor=alice, action="customer.updated")
    assert not TimelineEntry.objects.for_workspace(acme).filter(action="customer.updated").exists()


def test_one_line_per_customer_with_its_summary_cut(acme, alice) -> None:
    customer = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi"})
    with transaction.atomic():
        written = timeline_record(
            workspace=acme,
            customer_ids=[customer.pk, customer.pk],
            actor=alice,
            action="note.added",
            summary={"text": "x" * 500},
        )
    # one line per customer, however often it is named; the summary cut to what a line shows
    assert written == 1
    entry = TimelineEntry.objects.for_workspace(acme).get(action="note.added")
    assert entry.summary == {"text": "x" * 200}
