from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from relasi.core.models import AuditLog
from relasi.customers.models import (
    Channel,
    ChannelIdentity,
    Customer,
    CustomerExport,
    ExportStatus,
    PropertyDefinition,
)
from relasi.customers.property_services import property_create


def new_url() -> str:
    return reverse("customers:new", kwargs={"workspace_slug": "acme"})


def test_owner_adds_a_customer_with_defaults_and_properties(acme, alice, bob, client_for) -> None:
    property_create(workspace=acme, actor=alice, label="Budget", key="budget", kind="number")
    response = client_for(alice).post(
        new_url(),
        {
            "full_name": "  Budi Santoso ",
            "owner": alice.pk,
            "assignee": bob.pk,
            "source": "instagram",
            "channel_username": "@BudiS",
            "phone": "0812-3456-7890",
            "email": "Budi@Toko.ID",
            "status": "Lead",
            "city": "Bandung",
            "prop__budget": "1500000",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.for_workspace(acme).get()
    assert (customer.full_name, customer.owner, customer.assignee, customer.source) == (
        "Budi Santoso",
        alice,
        bob,
        "instagram",
    )
    assert (customer.phone, customer.phone_raw, customer.email) == (
        "+6281234567890",
        "0812-3456-7890",
        "budi@toko.id",
    )
    assert (customer.status, customer.city, customer.properties) == ("Lead", "Bandung", {"budget": 1500000})
    assert (customer.added_by, customer.added_by_label) == (alice, "Alice Owner")
    assert list(
        ChannelIdentity.objects.for_workspace(acme).values_list("channel", "external_id", "customer")
    ) == [("instagram", "budis", customer.pk)]
    assert AuditLog.objects.filter(action="customer.created", target_id=str(customer.pk)).count() == 1


def test_field_errors_in_place_and_nothing_created(acme, alice, client_for) -> None:
    response = client_for(alice).post(
        new_url(), {"full_name": "", "phone": "12ab", "email": "not-an-email", "status": "Vip"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Full name is required." in body
    assert "“12ab” is not a phone number." in body
    assert "“not-an-email” is not an email address." in body
    assert "“Vip” is not one of the statuses: Lead, Prospect, Customer, Inactive." in body
    # the fields in error are outlined, the others are not
    assert 'name="phone" value="12ab" class="form-control is-invalid" aria-invalid="true"' in body
    assert 'class="form-control is-invalid" aria-invalid="true" aria-describedby="id_full_name_error"' in body
    assert '<input type="text" name="job_title" class="form-control" id="id_job_title">' in body
    assert Customer.objects.for_workspace(acme).count() == 0


def test_same_phone_warns_with_a_link_then_save_anyway_keeps_both(
    acme, bob, client_for, make_customer
) -> None:
    existing = make_customer(acme, "Budi Lama", phone="+6281234567890")
    client = client_for(bob)
    warned = client.post(new_url(), {"full_name": "Budi Baru", "phone": "081234567890"})
    body = warned.content.decode()
    assert warned.status_code == 200
    assert "A customer with the same phone number or email already exists:" in body
    assert reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": existing.pk}) in body
    assert Customer.objects.for_workspace(acme).count() == 1
    assert f'name="confirm_duplicate" value="{existing.pk}"' in body
    # "save anyway" after switching to another existing customer's email warns about that one
    other = make_customer(acme, "Citra", email="citra@contoh.id")
    warned_again = client.post(
        new_url(),
        {
            "full_name": "Budi Baru",
            "phone": "081234567890",
            "email": "citra@contoh.id",
            "confirm_duplicate": str(existing.pk),
        },
    )
    assert warned_again.status_code == 200
    assert reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": other.pk}) in (
        warned_again.content.decode()
    )
    assert Customer.objects.for_workspace(acme).count() == 2
    saved = client.post(
        new_url(), {"full_name": "Budi Baru", "phone": "081234567890", "confirm_duplicate": str(existing.pk)}
    )
    assert saved.status_code == 302
    assert Customer.objects.for_workspace(acme).count() == 3
    # editing the new one without touching its phone does not ask again
    added = Customer.objects.for_workspace(acme).get(full_name="Budi Baru")
    edit_url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": added.pk})
    edited = client.post(edit_url, {"full_name": "Budi Baru", "phone": "081234567890", "job_title": "Owner"})
    assert edited.status_code == 302


def test_same_channel_and_username_as_another_customer_is_refused(
    acme, alice, client_for, make_customer
) -> None:
    make_customer(acme, "Pemilik", source=Channel.INSTAGRAM, username="tokobudi")
    response = client_for(alice).post(
        new_url(), {"full_name": "Peniru", "source": "instagram", "channel_username": "@TokoBudi"}
    )
    assert response.status_code == 400
    assert "Another customer already uses this Instagram username." in response.content.decode()
    assert list(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == ["Pemilik"]


def test_owner_must_be_a_member_of_the_workspace(acme, globex, alice, charlie, client_for) -> None:
    response = client_for(alice).post(new_url(), {"full_name": "X", "owner": charlie.pk})
    assert response.status_code == 400
    assert '<div class="invalid-feedback d-block">Choose a member of this workspace.</div>' in (
        response.content.decode()
    )
    assert Customer.objects.for_workspace(acme).count() == 0


def test_edit_a_customer_from_its_detail_page(acme, bob, client_for, make_customer) -> None:
    customer = make_customer(acme, "Budi", phone="+6281234567890")
    url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": customer.pk})
    page = client_for(bob).get(url)
    # the phone as every page shows it; sent back as shown, it is the same number (no change audited)
    assert 'value="+62 812-3456-7890"' in page.content.decode()
    client_for(bob).post(
        url, {"full_name": "Budi Santoso", "phone": "+62 812-3456-7890", "job_title": "Owner"}
    )
    customer.refresh_from_db()
    assert (customer.full_name, customer.job_title, customer.phone) == (
        "Budi Santoso",
        "Owner",
        "+6281234567890",
    )
    entry = AuditLog.objects.get(action="customer.updated", target_id=str(customer.pk))
    assert entry.changes == {"full_name": ["Budi", "Budi Santoso"], "job_title": ["", "Owner"]}


def test_editing_the_username_replaces_it_and_an_unchanged_save_writes_nothing(
    acme, alice, client_for, make_customer
) -> None:
    from relasi.customers.models import ChannelIdentity

    customer = make_customer(acme, "Budi", source=Channel.INSTAGRAM, username="budi_lama")
    url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": customer.pk})
    client = client_for(alice)
    form = {"full_name": "Budi", "source": "instagram", "channel_username": "budi_baru"}
    # when the username is changed
    assert client.post(url, form).status_code == 302
    # then the new handle replaces the old one, which another customer may now use
    assert list(ChannelIdentity.objects.for_workspace(acme).values_list("external_id", "customer_id")) == [
        ("budi_baru", customer.pk)
    ]
    assert 'value="budi_baru"' in client.get(url).content.decode()
    entry = AuditLog.objects.get(action="customer.updated", target_id=str(customer.pk))
    assert entry.changes == {"channel_username": ["budi_lama", "budi_baru"]}
    # when the same form is saved again, nothing changes: no audit row, no new "last update"
    customer.refresh_from_db()
    last_update = customer.updated_at
    assert client.post(url, form).status_code == 302
    customer.refresh_from_db()
    assert customer.updated_at == last_update
    assert AuditLog.objects.filter(action="customer.updated").count() == 1
    # when the username is cleared, the identity goes with it
    client.post(url, {**form, "channel_username": ""})
    assert not ChannelIdentity.objects.for_workspace(acme).exists()
    assert AuditLog.objects.filter(action="customer.updated").order_by("id").last().changes == {
        "channel_username": ["budi_baru", None]
    }


def test_saving_keeps_a_value_whose_option_was_removed(acme, alice, client_for, make_customer) -> None:
    from relasi.customers.models import PropertyKind
    from relasi.customers.property_services import property_create, property_update

    segment = property_create(
        workspace=acme,
        actor=alice,
        label="Segmen",
        key="segmen",
        kind=PropertyKind.SELECT,
        options=["Ritel", "Korporat"],
    )
    customer = make_customer(acme, "Ratna", status="Prospect", properties={"segmen": "Korporat"})
    # given both values lose their option
    property_update(workspace=acme, actor=alice, property_id=segment.pk, data={"options": ["Ritel"]})
    status = PropertyDefinition.objects.for_workspace(acme).get(key="status")
    property_update(
        workspace=acme, actor=alice, property_id=status.pk, data={"options": ["Lead", "Customer"]}
    )
    url = reverse("customers:detail", kwargs={"workspace_slug": "acme", "customer_id": customer.pk})
    client = client_for(alice)
    # then the form still shows them, marked
    page = client.get(url).content.decode()
    assert '<option value="Korporat" selected>Korporat (removed option)</option>' in page
    assert '<option value="Prospect" selected>Prospect (removed option)</option>' in page
    # when only the zip code is changed and the form saved as shown
    response = client.post(
        url, {"full_name": "Ratna", "status": "Prospect", "zip_code": "40111", "prop__segmen": "Korporat"}
    )
    # then both values are kept
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.zip_code, customer.status, customer.properties) == (
        "40111",
        "Prospect",
        {"segmen": "Korporat"},
    )
    # and choosing another value still needs a real option
    refused = client.post(url, {"full_name": "Ratna", "prop__segmen": "Lainnya"})
    assert refused.status_code == 400
    customer.refresh_from_db()
    assert customer.properties == {"segmen": "Korporat"}


def test_the_form_shows_fields_in_the_order_of_the_properties_page(acme, alice, client_for) -> None:
    from relasi.customers.models import PropertyKind
    from relasi.customers.property_services import properties_reorder, property_create

    property_create(workspace=acme, actor=alice, label="Segmen", key="segmen", kind=PropertyKind.TEXT)
    keys = list(
        PropertyDefinition.objects.for_workspace(acme)
        .order_by("position", "id")
        .values_list("key", flat=True)
    )
    # given the custom property dragged to the top
    properties_reorder(
        workspace=acme, actor=alice, keys=["segmen", *[key for key in keys if key != "segmen"]]
    )
    page = client_for(alice).get(new_url()).content.decode()
    assert page.index('name="prop__segmen"') < page.index('name="source"') < page.index('name="phone"')


def _csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


@pytest.mark.parametrize("manager", ["alice", "dave"])
def test_export_streams_exactly_the_filtered_customers(
    acme, manager, request, client_for, make_customer
) -> None:
    from datetime import UTC, datetime

    make_customer(
        acme,
        "Budi",
        source=Channel.WHATSAPP,
        phone="+6281234567890",
        updated_at=datetime(2026, 10, 21, 17, 51, 13, tzinfo=UTC),
    )
    make_customer(acme, '=HYPERLINK("x")', source=Channel.WHATSAPP)
    make_customer(acme, "Siti", source=Channel.EMAIL)
    response = client_for(request.getfixturevalue(manager)).post(
        reverse("customers:export", kwargs={"workspace_slug": "acme"}), {"source": "whatsapp", "sort": "name"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-acme-')
    rows = _csv_rows(response)
    assert rows[0][:6] == ["id", "full_name", "source", "channel_username", "phone", "email"]
    assert [(row[1], row[2], row[4]) for row in rows[1:]] == [
        ('\'=HYPERLINK("x")', "whatsapp", ""),
        ("Budi", "whatsapp", "+6281234567890"),
    ]
    # times in the workspace's zone (Jakarta), as the page shows them
    header = rows[0]
    budi = rows[2]
    assert (budi[header.index("created_at")], budi[header.index("updated_at")]) == (
        "2026-10-22T00:51:13+07:00",
        "2026-10-22T00:51:13+07:00",
    )
    assert AuditLog.objects.filter(action="customer.exported", workspace=acme).count() == 1


def test_large_export_runs_as_a_job_with_a_download_link(
    acme, alice, client_for, make_customer, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CUSTOMER_EXPORT_SYNC_LIMIT = 2
    for name in ("A", "B", "C"):
        make_customer(acme, name)
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:export", kwargs={"workspace_slug": "acme"}), {})
    export = CustomerExport.objects.for_workspace(acme).get()
    assert response.url == reverse(
        "customers:export_status", kwargs={"workspace_slug": "acme", "export_id": export.pk}
    )
    export.refresh_from_db()
    assert (export.status, export.row_count) == (ExportStatus.COMPLETED, 3)
    status_page = client.get(response.url).content.decode()
    assert "The export is ready: 3 customers." in status_page
    download = client.get(
        reverse("customers:export_download", kwargs={"workspace_slug": "acme", "export_id": export.pk})
    )
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    assert sorted(row[1] for row in list(csv.reader(io.StringIO(content)))[1:]) == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("reader", "status"), [("alice", 200), ("dave", 200), ("bob", 403), ("charlie", 404)]
)
def test_an_exports_status_page_is_for_who_asked_owners_and_admins(
    acme, globex, alice, reader, status, request, client_for, make_customer, settings
) -> None:
    # given the owner's export, made as a job
    settings.CUSTOMER_EXPORT_SYNC_LIMIT = 0
    make_customer(acme, "A")
    client_for(alice).post(reverse("customers:export", kwargs={"workspace_slug": "acme"}), {})
    export = CustomerExport.objects.for_workspace(acme).get()
    # when a member, or charlie, opens its status page
    response = client_for(request.getfixturevalue(reader)).get(
        reverse("customers:export_status", kwargs={"workspace_slug": "acme", "export_id": export.pk})
    )
    # then only the owner and the admin see it
    assert response.status_code == status


def test_outsider_cannot_see_or_download_an_export(
    acme, globex, alice, charlie, client_for, make_customer, settings
) -> None:
    settings.CUSTOMER_EXPORT_SYNC_LIMIT = 0
    make_customer(acme, "A")
    client_for(alice).post(reverse("customers:export", kwargs={"workspace_slug": "acme"}), {})
    export = CustomerExport.objects.for_workspace(acme).get()
    for name in ("customers:export_status", "customers:export_download"):
        assert (
            client_for(charlie)
            .get(reverse(name, kwargs={"workspace_slug": "acme", "export_id": export.pk}))
            .status_code
            == 404
        )
        assert (
            client_for(charlie)
            .get(reverse(name, kwargs={"workspace_slug": "globex", "export_id": export.pk}))
            .status_code
            == 404
        )
