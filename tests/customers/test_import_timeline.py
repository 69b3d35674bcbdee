"""An import writes the customer activity timeline as a person's edits do: "added" for each customer it creates,
the changed fields for each one it updates, with the importer as the one who did it."""

from __future__ import annotations

import pytest

from relasi.customers import imports
from relasi.customers.models import Customer, TimelineEntry
from relasi.customers.services import customer_create
from tests.customers.importing import started

pytestmark = pytest.mark.django_db


def test_an_import_adds_a_timeline_line_for_each_customer_it_creates_or_updates(acme, alice) -> None:
    # given a known customer, and a file with a new customer and a new job title for the known one
    known = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Budi Santoso", "phone": "081234567890"}
    )
    content = b"Full name,Phone,Job title\nSari Dewi,081299990000,\nBudi Santoso,081234567890,Owner\n"
    customer_import = started(acme, alice, content, mode="update")
    # when it runs
    imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    # then the new customer's timeline says it was added, by alice
    sari = Customer.objects.for_workspace(acme).get(full_name="Sari Dewi")
    [added] = TimelineEntry.objects.for_workspace(acme).filter(customer=sari)
    assert (added.action, added.summary, added.actor_label, added.actor) == (
        "customer.created",
        {"name": "Sari Dewi"},
        alice.email,
        alice,
    )
    # and the known customer's timeline has the change after its creation
    lines = list(
        TimelineEntry.objects.for_workspace(acme)
        .filter(customer=known)
        .order_by("pk")
        .values_list("action", "summary")
    )
    assert lines == [
        ("customer.created", {"name": "Budi Santoso"}),
        ("customer.updated", {"changes": {"job_title": ["", "Owner"]}}),
    ]


def test_an_import_that_changes_nothing_adds_no_line(acme, alice) -> None:
    # given a known customer and a file repeating it as it is
    known = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Budi Santoso", "phone": "081234567890"}
    )
    customer_import = started(acme, alice, b"Full name,Phone\nBudi Santoso,081234567890\n", mode="update")
    # when it runs
    imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    # then the timeline holds only the creation
    assert list(
        TimelineEntry.objects.for_workspace(acme).filter(customer=known).values_list("action", flat=True)
    ) == ["customer.created"]
