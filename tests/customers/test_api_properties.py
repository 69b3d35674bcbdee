"""The property definitions API, /api/v1/customer-properties: list, create, update, archive, restore."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.core.models import AuditLog
from relasi.customers.models import Customer, PropertyDefinition
from relasi.customers.property_services import property_create, property_set_archived
from relasi.tenancy.models import Workspace

URL = "/api/v1/customer-properties"
BUILTIN_KEYS = [
    "source",
    "channel_username",
    "phone",
    "email",
    "status",
    "job_title",
    "province",
    "city",
    "district",
    "subdistrict",
    "zip_code",
]


@pytest.fixture
def budget(acme: Workspace, alice: User) -> PropertyDefinition:
    return property_create(workspace=acme, actor=alice, label="Budget", key="budget", kind="number")


KEY_RULE = "Use lower-case letters, digits and underscores, starting with a letter."


def definitions(workspace: Workspace) -> list[dict[str, Any]]:
    return [dict(row) for row in PropertyDefinition.objects.for_workspace(workspace).order_by("id").values()]


def keys(response: Any) -> list[str]:
    return [item["key"] for item in response.json()["items"]]


def send(client: Client, method: str, url: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return getattr(client, method)(url, body or {}, content_type="application/json", **headers)


# --- List -------------------------------------------------------------------------------------------------


def test_list_shows_builtin_then_custom_properties_and_archived_on_request(acme, alice, acme_key) -> None:
    # given a custom property and an archived one
    tier = property_create(
        workspace=acme, actor=alice, label="Tier", key="tier", kind="select", options=["Gold", "Silver"]
    )
    old = property_create(workspace=acme, actor=alice, label="Old field", key="old_field", kind="text")
    property_set_archived(workspace=acme, actor=alice, property_id=old.pk, archived=True)
    client = Client()
    # when listing with and without archived ones
    listed = client.get(URL, **acme_key)
    with_archived = client.get(URL, {"include_archived": "true"}, **acme_key)
    # then the built-in fields come first in their order, then the custom ones
    assert listed.status_code == 200
    assert keys(listed) == [*BUILTIN_KEYS, "tier"]
    assert keys(with_archived) == [*BUILTIN_KEYS, "tier", "old_field"]
    assert listed.json()["items"][4] == {
        "id": PropertyDefinition.objects.for_workspace(acme).get(key="status").pk,
        "key": "status",
        "label": "Status",
        "kind": "select",
        "options": ["Lead", "Prospect", "Customer", "Inactive"],
        "is_required": False,
        "is_builtin": True,
        "is_visible": True,
        "position": 4,
        "archived_at": None,
    }
    assert listed.json()["items"][-1] == {
        "id": tier.pk,
        "key": "tier",
        "label": "Tier",
        "kind": "select",
        "options": ["Gold", "Silver"],
        "is_required": False,
        "is_builtin": False,
        "is_visible": True,
        "position": 11,
        "archived_at": None,
    }
    assert with_archived.json()["items"][-1]["archived_at"] is not None


def test_agent_may_list_properties(acme, bob, client_for) -> None:
    response = client_for(bob).get(URL, HTTP_X_WORKSPACE="acme")
    assert response.status_code == 200
    assert keys(response) == BUILTIN_KEYS


# --- Create -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("manager", ["alice", "dave"])
def test_owner_and_admin_create_a_property(acme, manager, request, client_for) -> None:
    user = request.getfixturevalue(manager)
    # when the owner (or an admin) adds a required multi select
    response = send(
        client_for(user),
        "post",
        URL,
        {
            "label": " Interests ",
            "key": "interests",
            "kind": "multiselect",
            "options": ["Batik", " Kopi ", "Batik", ""],
            "is_required": True,
        },
        HTTP_X_WORKSPACE="acme",
    )
    # then it exists, cleaned, after the built-in fields, and the change is audited
    assert response.status_code == 201
    definition = PropertyDefinition.objects.for_workspace(acme).get(key="interests")
    assert response.json() == {
        "id": definition.pk,
        "key": "interests",
        "label": "Interests",
        "kind": "multiselect",
        "options": ["Batik", "Kopi"],
        "is_required": True,
        "is_builtin": False,
        "is_visible": True,
        "position": 11,
        "archived_at": None,
    }
    log = AuditLog.objects.get(action="property.created")
    assert (log.workspace, log.actor, log.changes) == (
        acme,
        user,
        {"key": "interests", "kind": "multiselect"},
    )


def test_api_key_creates_a_property_and_is_named_in_the_audit_log(acme, acme_key) -> None:
    response = send(Client(), "post", URL, {"label": "Budget", "key": "budget", "kind": "number"}, **acme_key)
    assert response.status_code == 201
    assert response.json()["kind"] == "number"
    log = AuditLog.objects.get(action="property.created")
    assert log.actor is None
    assert log.actor_label.startswith("api-key:")
    assert log.actor_label.endswith("(CRM sync)")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"label": "", "key": "9lives", "kind": "colour"},
            {
                "label": ["A label is required."],
                "key": [KEY_RULE],
                "kind": ["Choose a property type."],
            },
        ),
        ({"label": "Phone", "key": "phone", "kind": "phone"}, {"key": ["“phone” is a built-in field."]}),
        (
            {"label": "Name", "key": "full_name", "kind": "text"},
            {"key": ["“full_name” is a built-in field."]},
        ),
        (
            {"label": "Tier", "key": "tier", "kind": "select"},
            {"options": ["A select needs at least one option."]},
        ),
        ({"label": "Tier", "key": "Tier", "kind": "text"}, {"key": [KEY_RULE]}),
        ({"label": "Tier", "kind": "select"}, {"key": ["Field required"]}),
    ],
)
def test_invalid_property_is_a_422_and_creates_nothing(acme, budget, acme_key, body, errors) -> None:
    before = definitions(acme)
    response = send(Client(), "post", URL, body, **acme_key)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == errors
    assert definitions(acme) == before


def test_a_key_another_property_has_is_a_409_and_creates_nothing(acme, budget, acme_key) -> None:
    # given a property with the key "budget"; when another is created with that key
    before = definitions(acme)
    response = send(Client(), "post", URL, {"label": "Budget", "key": "budget", "kind": "number"}, **acme_key)
    # then the request is well-formed but the data refuses it: a conflict, and nothing is created
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"key": ["A property with this key already exists."]}
    assert definitions(acme) == before


# --- Update, archive, restore -------------------------------------------------------------------------


@pytest.mark.parametrize("manager", ["alice", "dave"])
def test_patch_changes_only_the_fields_sent(acme, alice, manager, request, client_for) -> None:
    tier = property_create(
        workspace=acme, actor=alice, label="Tier", key="tier", kind="select", options=["Gold", "Silver"]
    )
    client = client_for(request.getfixturevalue(manager))
    # when the owner (or an admin) renames it and adds an option
    response = send(
        client,
        "patch",
        f"{URL}/{tier.pk}",
        {"label": "Membership tier", "options": ["Gold", "Silver", "Bronze"]},
        HTTP_X_WORKSPACE="acme",
    )
    # then only those fields changed
    assert response.status_code == 200
    tier.refresh_from_db()
    assert (tier.label, tier.options, tier.is_required, tier.is_visible, tier.position) == (
        "Membership tier",
        ["Gold", "Silver", "Bronze"],
        False,
        True,
        11,
    )
    assert response.json()["label"] == "Membership tier"
    log = AuditLog.objects.get(action="property.updated")
    assert log.changes == {
        "label": ["Tier", "Membership tier"],
        "options": [["Gold", "Silver"], ["Gold", "Silver", "Bronze"]],
    }
    # when another patch hides it, makes it required and moves it first
    response = send(
        client,
        "patch",
        f"{URL}/{tier.pk}",
        {"is_visible": False, "is_required": True, "position": 0},
        HTTP_X_WORKSPACE="acme",
    )
    tier.refresh_from_db()
    assert (tier.label, tier.is_required, tier.is_visible, tier.position) == (
        "Membership tier",
        True,
        False,
        0,
    )


def test_builtin_property_can_be_hidden_and_its_status_options_edited(acme, acme_key) -> None:
    status = PropertyDefinition.objects.for_workspace(acme).get(key="status")
    response = send(
        Client(), "patch", f"{URL}/{status.pk}", {"is_visible": False, "options": ["New", "Won"]}, **acme_key
    )
    assert response.status_code == 200
    assert (response.json()["is_visible"], response.json()["options"]) == (False, ["New", "Won"])


def test_builtin_property_keeps_its_name_and_stays_optional(acme, acme_key) -> None:
    status = PropertyDefinition.objects.for_workspace(acme).get(key="status")
    before = definitions(acme)
    audit_before = AuditLog.objects.count()
    response = send(
        Client(),
        "patch",
        f"{URL}/{status.pk}",
        {"label": "Tahap", "is_required": True, "is_visible": False},
        **acme_key,
    )
    assert response.status_code == 409
    assert response.json()["errors"] == {
        "label": ["A built-in field keeps its name; add a custom property for another one."],
        "is_required": ["A built-in field cannot be made required."],
    }
    assert definitions(acme) == before
    assert AuditLog.objects.count() == audit_before
    # sending the values it already has is not a change, and is accepted
    same = send(
        Client(), "patch", f"{URL}/{status.pk}", {"label": status.label, "is_required": False}, **acme_key
    )
    assert same.status_code == 200


def test_patch_with_an_empty_label_is_a_422_and_changes_nothing(acme, budget, acme_key) -> None:
    before = definitions(acme)
    response = send(Client(), "patch", f"{URL}/{budget.pk}", {"label": " ", "is_visible": False}, **acme_key)
    assert response.status_code == 422
    assert response.json()["errors"] == {"label": ["A label is required."]}
    assert definitions(acme) == before


def test_archive_and_restore(acme, alice, budget, acme_key) -> None:
    client = Client()
    customer = Customer.objects.for_workspace(acme).create(
        workspace=acme, full_name="Budi", properties={"budget": 5000000}
    )
    # when archived
    archived = send(client, "post", f"{URL}/{budget.pk}/archive", **acme_key)
    # then it is hidden from the list, no longer accepted on customers, and the values are kept
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert "budget" not in keys(client.get(URL, **acme_key))
    refused = send(
        client, "patch", f"/api/v1/customers/{customer.pk}", {"properties": {"budget": 1}}, **acme_key
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"properties.budget": ["There is no property with the key “budget”."]}
    customer.refresh_from_db()
    assert customer.properties == {"budget": 5000000}
    # when restored
    restored = send(client, "post", f"{URL}/{budget.pk}/restore", **acme_key)
    # then it is back and accepted again
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert "budget" in keys(client.get(URL, **acme_key))
    accepted = send(
        client, "patch", f"/api/v1/customers/{customer.pk}", {"properties": {"budget": "7500000"}}, **acme_key
    )
    assert accepted.status_code == 200
    assert accepted.json()["properties"] == {"budget": 7500000}
    assert list(
        AuditLog.objects.filter(target_type="customers.propertydefinition")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["property.created", "property.archived", "property.restored"]


def test_builtin_property_cannot_be_archived(acme, acme_key) -> None:
    phone = PropertyDefinition.objects.for_workspace(acme).get(key="phone")
    response = send(Client(), "post", f"{URL}/{phone.pk}/archive", **acme_key)
    assert response.status_code == 409
    assert response.json()["errors"] == {"__all__": ["Built-in fields can be hidden, not archived."]}
    phone.refresh_from_db()
    assert phone.archived_at is None


def test_customer_values_are_checked_against_the_property_type(acme, budget, acme_key) -> None:
    response = send(
        Client(),
        "post",
        "/api/v1/customers",
        {"full_name": "Budi", "properties": {"budget": "lots"}},
        **acme_key,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "properties.budget": ["“lots” is not a number: write it like 1500000 or -2.5."]
    }
    assert Customer.objects.for_workspace(acme).count() == 0


# --- Who may write -------------------------------------------------------------------------------------------


def test_agent_is_refused_every_write_with_403_and_nothing_changes(acme, bob, budget, client_for) -> None:
    client = client_for(bob)
    archived = property_create(
        workspace=acme, actor=Actor(system="tests"), label="Old", key="old", kind="text"
    )
    property_set_archived(workspace=acme, actor=Actor(system="tests"), property_id=archived.pk, archived=True)
    before = definitions(acme)
    audit_count = AuditLog.objects.count()
    # when the agent tries each write
    responses = [
        send(client, "post", URL, {"label": "Tier", "key": "tier", "kind": "text"}, HTTP_X_WORKSPACE="acme"),
        send(client, "patch", f"{URL}/{budget.pk}", {"label": "Money"}, HTTP_X_WORKSPACE="acme"),
        send(client, "post", f"{URL}/{budget.pk}/archive", HTTP_X_WORKSPACE="acme"),
        send(client, "post", f"{URL}/{archived.pk}/restore", HTTP_X_WORKSPACE="acme"),
    ]
    # then each is a 403 problem and nothing changed
    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    assert all(
        response.json()
        == {
            "type": "https://relasi.dev/problems/forbidden",
            "title": "Only owners and admins can change customer properties.",
            "status": 403,
            "detail": "Only owners and admins can change customer properties.",
        }
        for response in responses
    )
    assert definitions(acme) == before
    assert AuditLog.objects.count() == audit_count


def test_outsider_gets_404_and_nothing_changes(acme, globex, charlie, budget, globex_key, client_for) -> None:
    client = Client()
    before = definitions(acme)
    audit_count = AuditLog.objects.count()
    # when globex's key targets acme's property
    responses = [
        send(client, "patch", f"{URL}/{budget.pk}", {"label": "Hacked"}, **globex_key),
        send(client, "post", f"{URL}/{budget.pk}/archive", **globex_key),
        send(client, "post", f"{URL}/{budget.pk}/restore", **globex_key),
    ]
    # then each is a 404 and acme's list is not reachable
    assert [response.status_code for response in responses] == [404, 404, 404]
    assert "budget" not in keys(client.get(URL, **globex_key))
    # and for charlie's session acme does not exist
    session = client_for(charlie)
    assert session.get(URL, HTTP_X_WORKSPACE="acme").status_code == 404
    assert (
        send(session, "patch", f"{URL}/{budget.pk}", {"label": "X"}, HTTP_X_WORKSPACE="acme").status_code
        == 404
    )
    in_acme = [
        send(session, "post", URL, {"label": "Tier", "key": "tier", "kind": "text"}, HTTP_X_WORKSPACE="acme"),
        send(session, "post", f"{URL}/{budget.pk}/archive", HTTP_X_WORKSPACE="acme"),
        send(session, "post", f"{URL}/{budget.pk}/restore", HTTP_X_WORKSPACE="acme"),
    ]
    assert [response.status_code for response in in_acme] == [404, 404, 404]
    assert (
        send(session, "patch", f"{URL}/{budget.pk}", {"label": "X"}, HTTP_X_WORKSPACE="globex").status_code
        == 404
    )
    assert definitions(acme) == before
    assert not PropertyDefinition.objects.for_workspace(globex).filter(key="tier").exists()
    assert AuditLog.objects.count() == audit_count
