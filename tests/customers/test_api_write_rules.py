"""Rules every write of the customers API shares with the pages: duplicate warnings, "unchanged writes
nothing", and idempotent creates of customers, properties and imports."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relasi.core.models import AuditLog, IdempotentRequest
from relasi.customers.models import Customer, CustomerImport, PropertyDefinition
from relasi.customers.property_services import property_create
from relasi.customers.services import customer_create

CUSTOMERS = "/api/v1/customers"
PROPERTIES = "/api/v1/customer-properties"
IMPORTS = "/api/v1/customer-imports"
FILE = b"Nama,No HP\nAni,081234567890\n"


def send(method: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return getattr(Client(), method)(url, body, content_type="application/json", **headers)


def test_create_warns_about_customers_with_the_same_phone_or_email(acme, alice, acme_key) -> None:
    # given a customer with a phone and another with an email
    budi = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi", "phone": "081234567890"})
    sari = customer_create(workspace=acme, actor=alice, data={"full_name": "Sari", "email": "sari@toko.test"})
    # when an integration creates someone with both
    response = send(
        "post",
        CUSTOMERS,
        {"full_name": "Budi S.", "phone": "+62 812-3456-7890", "email": "SARI@toko.test"},
        acme_key,
    )
    # then the customer is created, and each match is named
    assert response.status_code == 201
    assert sorted(response.json()["warnings"], key=lambda warning: warning["field"]) == [
        {
            "code": "possible_duplicate",
            "field": "email",
            "message": "Another customer has this email.",
            "customer": {"id": sari.pk, "full_name": "Sari"},
        },
        {
            "code": "possible_duplicate",
            "field": "phone",
            "message": "Another customer has this phone number.",
            "customer": {"id": budi.pk, "full_name": "Budi"},
        },
    ]
    assert Customer.objects.for_workspace(acme).count() == 3


def test_create_without_a_match_has_no_warnings(acme, acme_key) -> None:
    response = send("post", CUSTOMERS, {"full_name": "Budi", "phone": "081234567890"}, acme_key)
    assert response.status_code == 201
    assert response.json()["warnings"] == []


def test_update_warns_only_about_a_phone_it_changes(acme, alice, acme_key) -> None:
    # given two customers who share a phone on purpose
    customer_create(workspace=acme, actor=alice, data={"full_name": "Budi", "phone": "081234567890"})
    twin = customer_create(workspace=acme, actor=alice, data={"full_name": "Twin", "phone": "081234567890"})
    other = customer_create(workspace=acme, actor=alice, data={"full_name": "Ani", "phone": "081299990000"})
    # when the twin is edited without touching the phone, then nothing is raised again
    kept = send("patch", f"{CUSTOMERS}/{twin.pk}", {"full_name": "Twin B", "phone": "081234567890"}, acme_key)
    assert kept.status_code == 200
    assert kept.json()["warnings"] == []
    # when the phone changes to Ani's, then Ani is named
    moved = send("patch", f"{CUSTOMERS}/{twin.pk}", {"phone": "081299990000"}, acme_key)
    assert [warning["customer"]["id"] for warning in moved.json()["warnings"]] == [other.pk]


def test_a_patch_with_the_stored_values_writes_no_audit_row(acme, alice, acme_key) -> None:
    customer = customer_create(
        workspace=acme,
        actor=alice,
        data={"full_name": "Budi", "phone": "081234567890", "status": "Lead", "city": "Bandung"},
    )
    before = AuditLog.objects.filter(action="customer.updated").count()
    updated_at = Customer.objects.for_workspace(acme).get().updated_at
    response = send(
        "patch",
        f"{CUSTOMERS}/{customer.pk}",
        {"full_name": "Budi", "phone": "+6281234567890", "status": "Lead", "city": "Bandung"},
        acme_key,
    )
    assert response.status_code == 200
    assert AuditLog.objects.filter(action="customer.updated").count() == before
    assert Customer.objects.for_workspace(acme).get().updated_at == updated_at


def test_a_patch_keeps_a_value_whose_option_was_removed(acme, alice, acme_key) -> None:
    # given a customer whose status "Lead" is no longer an option
    customer = customer_create(workspace=acme, actor=alice, data={"full_name": "Budi", "status": "Lead"})
    status = PropertyDefinition.objects.for_workspace(acme).get(key="status")
    PropertyDefinition.objects.for_workspace(acme).filter(pk=status.pk).update(options=["Customer"])
    # when the integration sends the customer back as it read it
    response = send(
        "patch", f"{CUSTOMERS}/{customer.pk}", {"full_name": "Budi B", "status": "Lead"}, acme_key
    )
    # then the rest is saved and the status stays
    assert response.status_code == 200
    assert (response.json()["full_name"], response.json()["status"]) == ("Budi B", "Lead")


def test_a_property_patch_with_the_stored_values_writes_no_audit_row(acme, alice, acme_key) -> None:
    tier = property_create(
        workspace=acme, actor=alice, label="Tier", key="tier", kind="select", options=["Gold"]
    )
    response = send(
        "patch",
        f"{PROPERTIES}/{tier.pk}",
        {"label": "Tier", "options": ["Gold"], "is_visible": True},
        acme_key,
    )
    assert response.status_code == 200
    assert not AuditLog.objects.filter(action="property.updated").exists()


def test_property_create_is_idempotent(acme, acme_key) -> None:
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "tier-1"}
    body = {"label": "Tier", "key": "tier", "kind": "text"}
    first = send("post", PROPERTIES, body, headers)
    second = send("post", PROPERTIES, body, headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert PropertyDefinition.objects.for_workspace(acme).filter(key="tier").count() == 1
    assert AuditLog.objects.filter(action="property.created").count() == 1
    conflict = send("post", PROPERTIES, {**body, "label": "Level"}, headers)
    assert conflict.status_code == 409
    assert conflict.json()["type"] == "https://relasi.dev/problems/idempotency-key-reused"


def test_import_create_is_idempotent(acme, acme_key, django_capture_on_commit_callbacks) -> None:
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "upload-7"}

    def upload(content: bytes) -> Any:
        return Client().post(IMPORTS, {"file": SimpleUploadedFile("c.csv", content)}, **headers)

    with django_capture_on_commit_callbacks(execute=True):
        first = upload(FILE)
    second = upload(FILE)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == first.json()
    assert CustomerImport.objects.for_workspace(acme).count() == 1
    assert Customer.objects.for_workspace(acme).count() == 1
    # the same key with another file is refused, and nothing is stored for it
    conflict = upload(b"Nama\nJoko\n")
    assert conflict.status_code == 409
    assert CustomerImport.objects.for_workspace(acme).count() == 1
    assert IdempotentRequest.objects.for_workspace(acme).count() == 1


def test_a_refused_import_is_not_remembered_under_its_key(acme, acme_key) -> None:
    headers = {**acme_key, "HTTP_IDEMPOTENCY_KEY": "upload-8"}
    refused = Client().post(IMPORTS, {"file": SimpleUploadedFile("c.csv", b"")}, **headers)
    assert refused.status_code == 422
    assert not IdempotentRequest.objects.for_workspace(acme).exists()


def test_another_client_reusing_a_key_gets_a_409_not_the_first_answer(
    acme, alice, bob, acme_key, client_for
) -> None:
    # given a property created by the integration under a key
    body = {"label": "Tier", "key": "tier", "kind": "text"}
    send("post", PROPERTIES, body, {**acme_key, "HTTP_IDEMPOTENCY_KEY": "tier-1"})
    # when an agent (who may not create properties) sends the same key and body from the browser
    replay = client_for(bob).post(
        PROPERTIES,
        body,
        content_type="application/json",
        HTTP_X_WORKSPACE="acme",
        HTTP_IDEMPOTENCY_KEY="tier-1",
    )
    # then the agent gets a conflict, not the stored answer
    assert replay.status_code == 409
    assert PropertyDefinition.objects.for_workspace(acme).filter(key="tier").count() == 1


def test_the_list_schema_and_the_page_parser_name_the_same_parameters(db) -> None:
    from relasi.customers.filters import PARSERS

    spec = Client().get("/api/v1/openapi.json").json()
    names = {parameter["name"] for parameter in spec["paths"][CUSTOMERS]["get"]["parameters"]}
    # the page reads `source` as a list and pages with `cursor`; the rest goes through PARSERS
    assert names == {*PARSERS, "source", "cursor", "limit"}


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"deleted": "true"}, {"deleted": ["Use 1 for the Deleted view, 0 (or nothing) for the others."]}),
        ({"date": "month", "month": "2026-3"}, {"month": ["Use a month like 2026-03."]}),
        ({"date": "day", "day": "20260301"}, {"day": ["Use a date like 2026-03-31."]}),
        ({"source": "WhatsApp"}, {"source": ["Unknown channel: WhatsApp."]}),
        ({"limit": "²"}, {"limit": ["Use a whole number from 1 to 200."]}),
    ],
)
def test_the_list_accepts_only_what_its_openapi_says(acme_key, params, errors) -> None:
    response = Client().get(CUSTOMERS, params, **acme_key)
    assert response.status_code == 400
    assert response.json()["errors"] == errors


def test_a_blank_channel_is_no_channel(acme, acme_key) -> None:
    response = Client().get(CUSTOMERS, {"source": " , "}, **acme_key)
    assert response.status_code == 200
