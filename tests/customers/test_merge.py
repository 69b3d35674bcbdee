"""Merging two customers by hand, and undoing it: identities, records, associations, timeline and counts after
each step; the tombstone leads to the survivor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from relasi.core.models import AuditLog
from relasi.core.validation import StateConflict
from relasi.customers.identity import Identifiers, customer_resolve
from relasi.customers.merge import customer_merge_undo, customer_merges_expire, customers_merge
from relasi.customers.models import ChannelIdentity, Customer, CustomerMerge, PossibleDuplicate, TimelineEntry
from relasi.customers.selectors import customer_merged_into
from relasi.customers.services import (
    customer_create,
    customer_update,
    customers_purge_deleted,
    customers_restore,
)
from relasi.interactions.models import TicketCustomer
from relasi.interactions.selectors import customer_activity_counts
from relasi.interactions.services import record_create

pytestmark = pytest.mark.django_db


def _identities(workspace, customer) -> list[str]:
    rows = ChannelIdentity.objects.for_workspace(workspace).filter(customer=customer).order_by("external_id")
    return [row.external_id for row in rows]


def _timeline_count(workspace, customer) -> int:
    return TimelineEntry.objects.for_workspace(workspace).filter(customer=customer).count()


@pytest.fixture
def pair(acme, alice):
    """Budi from WhatsApp (user id only) and Budi from the web form (phone and email), flagged as a pair."""
    whatsapp = customer_resolve(
        workspace=acme,
        actor=None,
        identifiers=Identifiers(channel="whatsapp", external_id="ID.7788", full_name="Budi WA"),
    ).customer
    web = customer_create(
        workspace=acme,
        actor=alice,
        data={
            "full_name": "Budi Santoso",
            "phone": "0813-9876-5432",
            "email": "budi@contoh.co.id",
            "city": "Bandung",
        },
    )
    # an event naming both points at two customers: flagged, never merged
    customer_resolve(
        workspace=acme,
        actor=None,
        identifiers=Identifiers(channel="whatsapp", external_id="ID.7788", phone="+6281398765432"),
    )
    return web, Customer.objects.for_workspace(acme).get(pk=whatsapp.pk)


def test_a_merge_moves_everything_to_the_survivor_and_leaves_a_tombstone(acme, alice, pair) -> None:
    web, whatsapp = pair
    ticket = record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"}, customer_ids=[whatsapp.pk]
    )
    shared = record_create(
        workspace=acme, actor=alice, kind="deal", data={"name": "Shared"}, customer_ids=[whatsapp.pk, web.pk]
    )
    assert PossibleDuplicate.objects.for_workspace(acme).filter(dismissed_at__isnull=True).count() == 1
    timeline_before = _timeline_count(acme, web) + _timeline_count(acme, whatsapp)
    # when alice keeps the web customer and takes the WhatsApp name
    merge = customers_merge(
        workspace=acme,
        actor=alice,
        survivor_id=web.pk,
        merged_id=whatsapp.pk,
        choices={"full_name": "merged"},
    )
    # then the survivor has the chosen name, its own phone, email and city, and the WhatsApp identity
    web.refresh_from_db()
    assert (web.full_name, web.phone, web.email, web.city) == (
        "Budi WA",
        "+6281398765432",
        "budi@contoh.co.id",
        "Bandung",
    )
    assert _identities(acme, web) == ["ID.7788"]
    # its records: the ticket moved, the deal shared by both is associated once
    assert set(
        TicketCustomer.objects.for_workspace(acme).filter(record=ticket).values_list("customer_id", flat=True)
    ) == {web.pk}
    assert customer_activity_counts(workspace=acme, customer=web) == {
        "conversation": 0,
        "ticket": 1,
        "deal": 1,
        "task": 0,
    }
    assert shared.pk in merge.moved["associations"]["deal"]["dropped_records"]
    # the whole timeline of both, plus the merge line
    assert _timeline_count(acme, web) == timeline_before + 1
    assert _timeline_count(acme, whatsapp) == 0
    # the pair is settled, the other customer is a tombstone leading to the survivor
    assert not PossibleDuplicate.objects.for_workspace(acme).filter(dismissed_at__isnull=True).exists()
    whatsapp.refresh_from_db()
    assert whatsapp.merged_into_id == web.pk
    assert whatsapp.deleted_at is not None
    assert customer_merged_into(workspace=acme, customer_id=whatsapp.pk) == web.pk
    assert customer_merged_into(workspace=acme, customer_id=web.pk) is None
    # and both sides are audited
    actions = list(
        AuditLog.objects.filter(workspace=acme, action__startswith="customer.merged").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["customer.merged", "customer.merged_into"]


def test_an_undo_puts_everything_back(acme, alice, pair) -> None:
    web, whatsapp = pair
    record_create(
        workspace=acme, actor=alice, kind="ticket", data={"title": "Refund"}, customer_ids=[whatsapp.pk]
    )
    shared = record_create(
        workspace=acme, actor=alice, kind="deal", data={"name": "Shared"}, customer_ids=[whatsapp.pk, web.pk]
    )
    web_timeline, whatsapp_timeline = _timeline_count(acme, web), _timeline_count(acme, whatsapp)
    merge = customers_merge(
        workspace=acme,
        actor=alice,
        survivor_id=web.pk,
        merged_id=whatsapp.pk,
        choices={"full_name": "merged"},
    )
    # when the merge is undone
    customer_merge_undo(workspace=acme, actor=alice, merge_id=merge.pk)
    # then both customers are as they were, each with its identities, records, associations and timeline
    web.refresh_from_db()
    whatsapp.refresh_from_db()
    assert (web.full_name, whatsapp.full_name) == ("Budi Santoso", "Budi WA")
    assert (whatsapp.deleted_at, whatsapp.merged_into_id) == (None, None)
    assert _identities(acme, whatsapp) == ["ID.7788"]
    assert _identities(acme, web) == []
    assert customer_activity_counts(workspace=acme, customer=whatsapp) == {
        "conversation": 0,
        "ticket": 1,
        "deal": 1,
        "task": 0,
    }
    assert customer_activity_counts(workspace=acme, customer=web) == {
        "conversation": 0,
        "ticket": 0,
        "deal": 1,
        "task": 0,
    }
    assert set(shared.associations.values_list("customer_id", flat=True)) == {web.pk, whatsapp.pk}
    # the timelines hold their own lines again, plus the merge and its undo on the survivor, the undo on the other
    assert _timeline_count(acme, web) == web_timeline + 2
    assert _timeline_count(acme, whatsapp) == whatsapp_timeline + 1
    assert PossibleDuplicate.objects.for_workspace(acme).filter(dismissed_at__isnull=True).count() == 1
    # and it cannot be undone twice
    with pytest.raises(StateConflict):
        customer_merge_undo(workspace=acme, actor=alice, merge_id=merge.pk)


def test_an_undo_keeps_an_edit_made_to_the_survivor_since(acme, alice, pair) -> None:
    web, whatsapp = pair
    merge = customers_merge(
        workspace=acme,
        actor=alice,
        survivor_id=web.pk,
        merged_id=whatsapp.pk,
        choices={"full_name": "merged"},
    )
    customer_update(workspace=acme, actor=alice, customer_id=web.pk, data={"status": "Customer"})
    customer_merge_undo(workspace=acme, actor=alice, merge_id=merge.pk)
    web.refresh_from_db()
    assert (web.full_name, web.status) == ("Budi WA", "Customer")


def test_an_undo_past_thirty_days_is_refused_and_changes_nothing(acme, alice, pair) -> None:
    web, whatsapp = pair
    merge = customers_merge(workspace=acme, actor=alice, survivor_id=web.pk, merged_id=whatsapp.pk)
    with pytest.raises(StateConflict):
        customer_merge_undo(
            workspace=acme, actor=alice, merge_id=merge.pk, now=timezone.now() + timedelta(days=31)
        )
    whatsapp.refresh_from_db()
    assert whatsapp.merged_into_id == web.pk


def test_bad_merges_are_refused_and_change_nothing(acme, alice, globex, charlie, pair) -> None:
    web, whatsapp = pair
    theirs = customer_create(workspace=globex, actor=charlie, data={"full_name": "Joko"})
    with pytest.raises(ValidationError):
        customers_merge(workspace=acme, actor=alice, survivor_id=web.pk, merged_id=web.pk)
    with pytest.raises(ValidationError) as refused:
        customers_merge(
            workspace=acme,
            actor=alice,
            survivor_id=web.pk,
            merged_id=whatsapp.pk,
            choices={"salary": "merged", "city": "x"},
        )
    assert refused.value.message_dict == {
        "salary": ["There is no such field."],
        "city": ["Choose survivor or merged."],
    }
    # another workspace's customer is not found, from either side
    with pytest.raises(Http404):
        customers_merge(workspace=acme, actor=alice, survivor_id=web.pk, merged_id=theirs.pk)
    with pytest.raises(Http404):
        customers_merge(workspace=globex, actor=charlie, survivor_id=theirs.pk, merged_id=web.pk)
    assert not CustomerMerge.objects.for_workspace(acme).exists()
    assert Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True).count() == 2


def test_a_tombstone_is_not_restorable_nor_purged_but_its_data_expires(acme, alice, pair) -> None:
    web, whatsapp = pair
    customers_merge(workspace=acme, actor=alice, survivor_id=web.pk, merged_id=whatsapp.pk)
    assert customers_restore(workspace=acme, actor=alice, customer_ids=[whatsapp.pk]) == 0
    later = timezone.now() + timedelta(days=31)
    assert customers_purge_deleted(now=later) == 0
    assert customer_merges_expire(now=later) == 1
    whatsapp.refresh_from_db()
    assert (whatsapp.full_name, whatsapp.phone, whatsapp.merged_into_id) == ("Merged customer", "", web.pk)
    assert CustomerMerge.objects.for_workspace(acme).get().survivor_before == {}


def test_a_chain_of_merges_leads_to_the_last_survivor(acme, alice) -> None:
    first, second, third = (
        customer_create(workspace=acme, actor=alice, data={"full_name": name}) for name in ("A", "B", "C")
    )
    customers_merge(workspace=acme, actor=alice, survivor_id=second.pk, merged_id=first.pk)
    customers_merge(workspace=acme, actor=alice, survivor_id=third.pk, merged_id=second.pk)
    assert customer_merged_into(workspace=acme, customer_id=first.pk) == third.pk
