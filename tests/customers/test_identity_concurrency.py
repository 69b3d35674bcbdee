"""Concurrent events for the same new identifier create exactly one customer (PostgreSQL, threads: SQLite takes one
writer at a time, so it cannot show the race)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from relasi.customers.identity import Identifiers, customer_resolve
from relasi.customers.models import ChannelIdentity, ContactClaim, Customer

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a real race needs concurrent writers: PostgreSQL's"
)

THREADS = 8


def _race(workspace, identifiers: list[Identifiers]) -> list[int]:
    """Resolve each identifiers at once, one thread (and one database connection) each; the customers' ids."""
    barrier = threading.Barrier(len(identifiers))
    results: list[int] = []
    errors: list[BaseException] = []

    def run(sent: Identifiers) -> None:
        try:
            barrier.wait(timeout=10)
            resolution = customer_resolve(workspace=workspace, actor=None, identifiers=sent)
            results.append(resolution.customer.pk)
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(sent,)) for sent in identifiers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_for_one_new_phone_create_one_customer(acme) -> None:
    # given eight events for a phone nobody has, written three ways
    forms = ["081377778888", "+6281377778888", "6281377778888", "0813-7777-8888"]
    sent = [
        Identifiers(phone=forms[index % len(forms)], full_name=f"Event {index}") for index in range(THREADS)
    ]
    # when they are resolved at the same moment
    ids = _race(acme, sent)
    # then they all land on one customer, created once, holding the phone
    assert len(ids) == THREADS
    assert len(set(ids)) == 1
    customers = Customer.objects.for_workspace(acme)
    assert list(customers.values_list("phone", flat=True)) == ["+6281377778888"]
    assert list(ContactClaim.objects.for_workspace(acme).values_list("customer_id", flat=True)) == [ids[0]]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_for_one_new_whatsapp_id_create_one_customer(acme) -> None:
    # given eight events of one WhatsApp user, half of them with the phone too
    sent = [
        Identifiers(channel="whatsapp", external_id="ID.9009", phone="081366665555" if index % 2 else "")
        for index in range(THREADS)
    ]
    # when they are resolved at the same moment
    ids = _race(acme, sent)
    # then one customer, with the id once and the phone
    assert len(set(ids)) == 1
    assert Customer.objects.for_workspace(acme).count() == 1
    assert ChannelIdentity.objects.for_workspace(acme).filter(external_id="ID.9009").count() == 1
    assert Customer.objects.for_workspace(acme).get().phone == "+6281366665555"
