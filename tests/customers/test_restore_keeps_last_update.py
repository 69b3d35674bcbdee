"""Deleting and restoring a customer is not an edit of its data: "Last update" stays, the audit log says who
did it and when, and the Deleted view sorts by the time of deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client
from django.urls import reverse

from relasi.core.models import AuditLog
from relasi.customers.filters import customer_filters_parse
from relasi.customers.models import Customer
from relasi.customers.selectors import customer_page, customer_queryset

# 2026-03-15 10:00 in Jakarta (UTC+7).
NOW = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)
ANI_UPDATED = datetime(2026, 1, 10, 5, 0, tzinfo=UTC)
BUDI_UPDATED = datetime(2026, 2, 20, 5, 0, tzinfo=UTC)
CITRA_UPDATED = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def _post(client: Client, action: str, *customers: Customer, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        response = client.post(
            reverse(f"customers:{action}", kwargs={"workspace_slug": "acme"}),
            {"ids": [customer.pk for customer in customers]},
        )
    assert response.status_code == 302


def _listed(workspace, *, at: datetime, **params: str) -> list[str]:
    with time_machine.travel(at, tick=False):
        page = customer_page(workspace=workspace, filters=customer_filters_parse(params), cursor=None)
    return [customer.full_name for customer in page.items]


def test_delete_then_restore_keeps_last_update(acme, alice, client_for, make_customer) -> None:
    # given three customers last edited on three days
    ani = make_customer(acme, "Ani", updated_at=ANI_UPDATED)
    budi = make_customer(acme, "Budi", updated_at=BUDI_UPDATED)
    citra = make_customer(acme, "Citra", updated_at=CITRA_UPDATED)
    client = client_for(alice)
    # when the owner deletes Budi, then Ani, then Citra, an hour apart
    _post(client, "delete", budi, at=NOW - timedelta(hours=2))
    _post(client, "delete", ani, at=NOW - timedelta(hours=1))
    _post(client, "delete", citra, at=NOW)
    # then each keeps its last update and records when it was deleted
    assert {
        c.full_name: (c.updated_at, c.deleted_at) for c in Customer.objects.for_workspace(acme).order_by("id")
    } == {
        "Ani": (ANI_UPDATED, NOW - timedelta(hours=1)),
        "Budi": (BUDI_UPDATED, NOW - timedelta(hours=2)),
        "Citra": (CITRA_UPDATED, NOW),
    }
    # and the Deleted view lists the latest deletion first (not the latest update)
    assert _listed(acme, at=NOW, deleted="1") == ["Citra", "Ani", "Budi"]

    # when Ani and Budi are restored together an hour later
    _post(client, "restore", ani, budi, at=NOW + timedelta(hours=1))
    # then their last update is still the old one
    ani.refresh_from_db()
    budi.refresh_from_db()
    assert (ani.updated_at, ani.deleted_at) == (ANI_UPDATED, None)
    assert (budi.updated_at, budi.deleted_at) == (BUDI_UPDATED, None)
    # and the audit log holds both moves, with who and when
    assert list(
        AuditLog.objects.filter(target_type="customers.customer", target_id=str(ani.pk))
        .order_by("id")
        .values_list("action", "actor_id", "created_at")
    ) == [
        ("customer.deleted", alice.pk, NOW - timedelta(hours=1)),
        ("customer.restored", alice.pk, NOW + timedelta(hours=1)),
    ]
    assert AuditLog.objects.filter(action="customer.restored").count() == 2


def test_restored_customers_keep_their_place_in_last_update_filters_and_sort(
    acme, alice, client_for, make_customer
) -> None:
    # given three customers, two of them deleted and restored today
    ani = make_customer(acme, "Ani", updated_at=ANI_UPDATED)
    budi = make_customer(acme, "Budi", updated_at=BUDI_UPDATED)
    make_customer(acme, "Citra", updated_at=CITRA_UPDATED)
    client = client_for(alice)
    _post(client, "delete", ani, budi, at=NOW - timedelta(hours=1))
    _post(client, "restore", ani, budi, at=NOW)
    # then the newest-first sort keeps the order of their real edits
    assert _listed(acme, at=NOW) == ["Citra", "Budi", "Ani"]
    # and "today" does not count a restore as an update, while their own month still finds them
    with time_machine.travel(NOW, tick=False):
        today = customer_queryset(workspace=acme, filters=customer_filters_parse({"date": "today"}))
        january = customer_queryset(
            workspace=acme, filters=customer_filters_parse({"date": "month", "month": "2026-01"})
        )
        assert list(today.values_list("full_name", flat=True)) == []
        assert list(january.values_list("full_name", flat=True)) == ["Ani"]


def test_api_delete_and_restore_answer_with_the_old_last_update(acme, acme_key, make_customer) -> None:
    # given a customer last edited on 10 January
    ani = make_customer(acme, "Ani", updated_at=ANI_UPDATED)
    client = Client()
    url = f"/api/v1/customers/{ani.pk}"
    # when the API deletes and restores it
    with time_machine.travel(NOW, tick=False):
        assert client.delete(url, **acme_key).status_code == 204
        restored = client.post(f"{url}/restore", **acme_key)
    # then the answer and the row keep the January time
    assert restored.status_code == 200
    assert restored.json()["updated_at"] == "2026-01-10T05:00:00Z"
    ani.refresh_from_db()
    assert ani.updated_at == ANI_UPDATED
