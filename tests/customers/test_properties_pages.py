"""The Properties menu pages: list, new, edit, show/hide, archive/restore and reorder.

alice owns acme and dave is an admin there (both may change properties), bob is an agent in acme (may only
look), charlie is an outsider.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relasi.core.models import AuditLog
from relasi.customers import property_services, selectors
from relasi.customers.models import PropertyDefinition, PropertyKind
from relasi.tenancy.models import Workspace

BUILTIN_ORDER = [
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


def url(name: str, **kwargs: Any) -> str:
    return reverse(f"customers:{name}", kwargs={"workspace_slug": "acme", **kwargs})


def definitions(workspace: Workspace) -> list[PropertyDefinition]:
    return selectors.property_definitions(workspace=workspace, include_archived=True)


def by_key(workspace: Workspace, key: str) -> PropertyDefinition:
    return next(definition for definition in definitions(workspace) if definition.key == key)


def snapshot(workspace: Workspace) -> list[tuple[Any, ...]]:
    return [
        (d.key, d.label, d.kind, d.options, d.is_required, d.is_visible, d.position, d.archived_at)
        for d in definitions(workspace)
    ]


def audit_actions(workspace: Workspace) -> list[str]:
    return list(
        AuditLog.objects.filter(workspace=workspace, action__startswith="property.")
        .order_by("id")
        .values_list("action", flat=True)
    )


def table_keys(html: str, prefix: str) -> list[str]:
    """Keys of the rows marked data-testid="<prefix><key>", in page order."""
    marker = f'data-testid="{prefix}'
    return [part.split('"', 1)[0] for part in html.split(marker)[1:]]


# Owners and admins manage properties: the tests of what they may do run for both.
owner_and_admin = pytest.mark.parametrize("manager", ["alice", "dave"])


def new_property(alice: Any, acme: Workspace, **overrides: Any) -> PropertyDefinition:
    values: dict[str, Any] = {
        "label": "Tier",
        "key": "tier",
        "kind": PropertyKind.SELECT,
        "options": ["Gold"],
    }
    values.update(overrides)
    return property_services.property_create(workspace=acme, actor=alice, **values)


# --- The list -----------------------------------------------------------------------------------------------


@owner_and_admin
def test_owner_and_admin_see_every_builtin_property_in_order_with_the_write_controls(
    acme, manager, request, client_for
) -> None:
    response = client_for(request.getfixturevalue(manager)).get(url("properties"))

    assert response.status_code == 200
    assert response.context["section"] == "properties"
    html = response.content.decode()
    assert table_keys(html, "property-row-") == BUILTIN_ORDER
    assert table_keys(html, "toggle-") == BUILTIN_ORDER
    assert 'data-testid="new-property"' in html
    assert 'data-testid="archive-' not in html  # built-in fields cannot be archived
    assert "vendor/sortablejs/Sortable.min.js" in html
    assert url("property_reorder") in html
    assert 'data-testid="no-archived"' in html


def test_agent_sees_the_list_but_no_write_controls(acme, alice, bob, client_for) -> None:
    new_property(alice, acme)

    response = client_for(bob).get(url("properties"))

    assert response.status_code == 200
    html = response.content.decode()
    assert table_keys(html, "property-row-") == [*BUILTIN_ORDER, "tier"]
    assert 'data-testid="read-only-note"' in html
    for control in (
        'data-testid="new-property"',
        'data-testid="toggle-',
        'data-testid="archive-',
        "Sortable",
    ):
        assert control not in html
    assert url("property_edit", property_id=by_key(acme, "tier").pk) not in html


# --- New property --------------------------------------------------------------------------------------------

KINDS = [
    ("text", ""),
    ("long_text", ""),
    ("number", ""),
    ("currency", ""),
    ("date", ""),
    ("datetime", ""),
    ("boolean", ""),
    ("select", "Gold\nSilver\n\n Gold \nBronze"),
    ("multiselect", "Sports\r\nMusic"),
    ("phone", ""),
    ("email", ""),
    ("url", ""),
]
EXPECTED_OPTIONS = {"select": ["Gold", "Silver", "Bronze"], "multiselect": ["Sports", "Music"]}


@owner_and_admin
@pytest.mark.parametrize(("kind", "options"), KINDS)
def test_owner_and_admin_create_a_property_of_each_type(
    kind: str, options: str, acme, manager, request, client_for
) -> None:
    user = request.getfixturevalue(manager)
    response = client_for(user).post(
        url("property_new"),
        {"label": f"My {kind}", "key": f"my_{kind}", "kind": kind, "options": options, "is_required": "on"},
    )

    assert response.status_code == 302
    assert response.url == url("properties")
    created = by_key(acme, f"my_{kind}")
    assert (created.label, created.kind, created.options, created.is_required, created.is_builtin) == (
        f"My {kind}",
        kind,
        EXPECTED_OPTIONS.get(kind, []),
        True,
        False,
    )
    assert created.position == len(BUILTIN_ORDER)
    log = AuditLog.objects.get(workspace=acme, action="property.created")
    assert (log.actor, log.target_id, log.changes) == (
        user,
        str(created.pk),
        {"key": f"my_{kind}", "kind": kind},
    )


def test_the_new_property_page_lists_every_type_and_suggests_the_key(acme, alice, client_for) -> None:
    response = client_for(alice).get(url("property_new"))

    assert response.status_code == 200
    assert response.context["section"] == "properties"
    assert [value for value, _label in response.context["form"].fields["kind"].choices] == [
        k for k, _o in KINDS
    ]
    assert "suggest(label.value)" in response.content.decode()


def test_the_new_property_shows_in_the_list_as_custom(acme, alice, client_for) -> None:
    client = client_for(alice)
    client.post(url("property_new"), {"label": "Birthday", "key": "birthday", "kind": "date"})

    html = client.get(url("properties")).content.decode()

    assert table_keys(html, "property-row-") == [*BUILTIN_ORDER, "birthday"]
    assert table_keys(html, "archive-") == ["birthday"]
    assert "The property “Birthday” (birthday) was added." in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"label": "Tier", "key": "tier", "kind": "select", "options": " \n "},
            "options",
            "A select needs at least one option.",
        ),
        (
            {"label": "Tier", "key": "1tier", "kind": "text"},
            "key",
            "Use lower-case letters, digits and underscores, starting with a letter.",
        ),
        (
            {"label": "Tier", "key": "tier-level", "kind": "text"},
            "key",
            "Use lower-case letters, digits and underscores, starting with a letter.",
        ),
        ({"label": "Mobile", "key": "phone", "kind": "phone"}, "key", "“phone” is a built-in field."),
        ({"label": "Name", "key": "full_name", "kind": "text"}, "key", "“full_name” is a built-in field."),
        ({"label": "", "key": "tier", "kind": "text"}, "label", "This field is required."),
        ({"label": "Tier", "key": "tier", "kind": "colour"}, "kind", "Select a valid choice."),
    ],
)
def test_bad_input_shows_the_error_in_place_and_creates_nothing(
    data: dict[str, str], field: str, message: str, acme, alice, client_for
) -> None:
    before = snapshot(acme)

    response = client_for(alice).post(url("property_new"), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    assert "The property was not added." in html
    assert snapshot(acme) == before
    assert audit_actions(acme) == []


def test_a_duplicate_key_is_refused_in_place(acme, alice, client_for) -> None:
    new_property(alice, acme)
    before = snapshot(acme)

    response = client_for(alice).post(url("property_new"), {"label": "Level", "key": "tier", "kind": "text"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"key": ["A property with this key already exists."]}
    assert snapshot(acme) == before
    assert audit_actions(acme) == ["property.created"]


def test_the_same_key_may_exist_in_another_workspace(acme, globex, alice, charlie, client_for) -> None:
    new_property(charlie, globex)

    response = client_for(alice).post(url("property_new"), {"label": "Tier", "key": "tier", "kind": "text"})

    assert response.status_code == 302
    assert by_key(acme, "tier").kind == "text"
    assert by_key(globex, "tier").kind == "select"


# --- Edit ------------------------------------------------------------------------------------------------------


@owner_and_admin
def test_owner_and_admin_edit_label_options_and_required(acme, alice, manager, request, client_for) -> None:
    tier = new_property(alice, acme, options=["Gold", "Silver"])

    response = client_for(request.getfixturevalue(manager)).post(
        url("property_edit", property_id=tier.pk),
        {
            "label": "Membership tier",
            "options": "Platinum\nGold\nSilver",
            "is_required": "on",
            "is_visible": "on",
        },
    )

    assert response.status_code == 302
    tier = by_key(acme, "tier")
    assert (tier.label, tier.options, tier.is_required, tier.is_visible) == (
        "Membership tier",
        ["Platinum", "Gold", "Silver"],
        True,
        True,
    )
    log = AuditLog.objects.get(workspace=acme, action="property.updated")
    assert log.changes == {
        "label": ["Tier", "Membership tier"],
        "options": [["Gold", "Silver"], ["Platinum", "Gold", "Silver"]],
        "is_required": [False, True],
    }


def test_the_edit_page_shows_key_and_type_read_only(acme, alice, client_for) -> None:
    tier = new_property(alice, acme)

    response = client_for(alice).get(url("property_edit", property_id=tier.pk))

    assert response.status_code == 200
    assert response.context["section"] == "properties"
    assert list(response.context["form"].fields) == ["label", "options", "is_required", "is_visible"]
    html = response.content.decode()
    assert "<code>tier</code>" in html
    assert 'name="key"' not in html
    assert 'name="kind"' not in html


def test_key_and_type_cannot_be_changed_by_posting_them(acme, alice, client_for) -> None:
    tier = new_property(alice, acme)

    client_for(alice).post(
        url("property_edit", property_id=tier.pk),
        {"label": "Tier", "options": "Gold", "is_visible": "on", "key": "hacked", "kind": "text"},
    )

    tier = by_key(acme, "tier")
    assert (tier.key, tier.kind) == ("tier", "select")
    assert audit_actions(acme) == ["property.created"]  # nothing that may change did change


def test_saving_without_changes_writes_no_audit_row(acme, alice, client_for) -> None:
    tier = new_property(alice, acme)

    response = client_for(alice).post(
        url("property_edit", property_id=tier.pk),
        {"label": "Tier", "options": "Gold\r\n", "is_visible": "on"},
        follow=True,
    )

    assert "Nothing was changed." in response.content.decode()
    assert audit_actions(acme) == ["property.created"]


def test_a_select_cannot_lose_all_its_options(acme, alice, client_for) -> None:
    tier = new_property(alice, acme)
    before = snapshot(acme)

    response = client_for(alice).post(
        url("property_edit", property_id=tier.pk), {"label": "Renamed", "options": "", "is_visible": "on"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"options": ["A select needs at least one option."]}
    assert "Nothing was saved." in response.content.decode()
    assert snapshot(acme) == before


def test_status_options_are_editable_but_a_builtin_label_is_not(acme, alice, client_for) -> None:
    status = by_key(acme, "status")
    client = client_for(alice)
    page = client.get(url("property_edit", property_id=status.pk))
    assert list(page.context["form"].fields) == ["options", "is_visible"]

    client.post(
        url("property_edit", property_id=status.pk),
        {"label": "State", "options": "Lead\nQualified\nCustomer", "is_visible": "on", "is_required": "on"},
    )

    status = by_key(acme, "status")
    assert (status.label, status.options, status.is_required) == (
        "Status",
        ["Lead", "Qualified", "Customer"],
        False,
    )


def test_the_channel_list_is_shown_but_not_editable(acme, alice, client_for) -> None:
    source = by_key(acme, "source")

    response = client_for(alice).get(url("property_edit", property_id=source.pk))

    assert list(response.context["form"].fields) == ["is_visible"]
    assert "WhatsApp, Instagram, Facebook Messenger" in response.content.decode()


# --- Show / hide --------------------------------------------------------------------------------------------


@owner_and_admin
def test_owner_and_admin_hide_and_show_a_builtin_field(acme, manager, request, client_for) -> None:
    job_title = by_key(acme, "job_title")
    client = client_for(request.getfixturevalue(manager))
    toggle = url("property_edit", property_id=job_title.pk)

    hidden = client.post(toggle, {"intent": "visibility", "is_visible": "0"}, follow=True)

    assert by_key(acme, "job_title").is_visible is False
    assert "“Job title” is hidden. Its values are kept." in hidden.content.decode()
    assert job_title.key not in [c.key for c in selectors.customer_available_columns(workspace=acme)]

    shown = client.post(toggle, {"intent": "visibility", "is_visible": "1"}, HTTP_HX_REQUEST="true")

    assert by_key(acme, "job_title").is_visible is True
    row = shown.content.decode()
    assert row.strip().startswith("<tr") and 'data-testid="property-row-job_title"' in row
    assert "Shown" in row and 'name="is_visible" value="0"' in row
    assert [
        log.changes
        for log in AuditLog.objects.filter(workspace=acme, action="property.updated").order_by("id")
    ] == [
        {"is_visible": [True, False]},
        {"is_visible": [False, True]},
    ]


def test_the_edit_page_hides_a_property_too(acme, alice, client_for) -> None:
    email = by_key(acme, "email")

    client_for(alice).post(url("property_edit", property_id=email.pk), {})

    assert by_key(acme, "email").is_visible is False


# --- Archive / restore --------------------------------------------------------------------------------------


@owner_and_admin
def test_owner_and_admin_archive_and_restore_a_custom_property(
    acme, alice, manager, request, client_for
) -> None:
    tier = new_property(alice, acme)
    client = client_for(request.getfixturevalue(manager))

    archived = client.post(url("property_archive", property_id=tier.pk), {"archived": "1"}, follow=True)

    assert by_key(acme, "tier").archived_at is not None
    html = archived.content.decode()
    assert "tier" not in table_keys(html, "property-row-")
    assert table_keys(html, "archived-row-") == ["tier"]
    assert table_keys(html, "restore-") == ["tier"]
    assert "“Tier” was archived." in html
    assert "tier" not in [d.key for d in selectors.property_definitions(workspace=acme)]

    restored = client.post(url("property_archive", property_id=tier.pk), {"archived": "0"}, follow=True)

    assert by_key(acme, "tier").archived_at is None
    html = restored.content.decode()
    assert table_keys(html, "property-row-") == [*BUILTIN_ORDER, "tier"]
    assert table_keys(html, "archived-row-") == []
    assert "“Tier” was restored." in html
    assert audit_actions(acme) == ["property.created", "property.archived", "property.restored"]


def test_an_archived_property_can_be_opened_and_restored_from_its_page(acme, alice, client_for) -> None:
    tier = new_property(alice, acme)
    property_services.property_set_archived(workspace=acme, actor=alice, property_id=tier.pk, archived=True)

    response = client_for(alice).get(url("property_edit", property_id=tier.pk))

    html = response.content.decode()
    assert 'data-testid="archived-note"' in html
    assert 'name="archived" value="0"' in html


def test_a_builtin_field_cannot_be_archived(acme, alice, client_for) -> None:
    phone = by_key(acme, "phone")
    before = snapshot(acme)

    response = client_for(alice).post(url("property_archive", property_id=phone.pk), follow=True)

    assert "Built-in fields can be hidden, not archived." in response.content.decode()
    assert snapshot(acme) == before
    assert audit_actions(acme) == []


# --- Reorder -----------------------------------------------------------------------------------------------------


@owner_and_admin
def test_owner_and_admin_reorder_properties(acme, alice, manager, request, client_for) -> None:
    new_property(alice, acme)
    order = ["tier", "email", "phone", "source", "channel_username", "status", *BUILTIN_ORDER[5:]]
    user = request.getfixturevalue(manager)

    response = client_for(user).post(url("property_reorder"), {"keys": order})

    assert response.status_code == 200
    assert response.json() == {"order": order, "message": "The new order was saved."}
    assert [d.key for d in selectors.property_definitions(workspace=acme)] == order
    log = AuditLog.objects.get(workspace=acme, action="property.reordered")
    assert (log.actor, log.changes) == (user, {"order": order})
    html = client_for(user).get(url("properties")).content.decode()
    assert table_keys(html, "property-row-") == order


@pytest.mark.parametrize("keys", [[], ["Not A Key"], ["phone", "x;drop"]])
def test_a_bad_reorder_is_refused_and_changes_nothing(keys: list[str], acme, alice, client_for) -> None:
    before = snapshot(acme)

    response = client_for(alice).post(url("property_reorder"), {"keys": keys})

    assert response.status_code == 400
    assert response.json() == {"error": "Send the property keys in their new order."}
    assert snapshot(acme) == before
    assert audit_actions(acme) == []


@pytest.mark.parametrize("name", ["property_archive", "property_reorder"])
def test_write_only_urls_refuse_get(name: str, acme, alice, client_for) -> None:
    kwargs = {"property_id": by_key(acme, "phone").pk} if name == "property_archive" else {}

    assert client_for(alice).get(url(name, **kwargs)).status_code == 405


# --- Who may do what --------------------------------------------------------------------------------------------


def write_requests(acme: Workspace, custom: PropertyDefinition) -> list[tuple[str, str, dict[str, Any]]]:
    status = by_key(acme, "status")
    return [
        ("get", url("property_new"), {}),
        ("post", url("property_new"), {"label": "Tier 2", "key": "tier_two", "kind": "text"}),
        ("get", url("property_edit", property_id=custom.pk), {}),
        ("post", url("property_edit", property_id=custom.pk), {"label": "Hacked", "options": "X"}),
        ("post", url("property_edit", property_id=status.pk), {"intent": "visibility", "is_visible": "0"}),
        ("post", url("property_archive", property_id=custom.pk), {"archived": "1"}),
        ("post", url("property_reorder"), {"keys": ["zip_code", "tier"]}),
    ]


def send(client: Client, method: str, target: str, data: dict[str, Any]) -> int:
    response = client.get(target) if method == "get" else client.post(target, data)
    return response.status_code


def test_agent_gets_403_on_every_write_and_nothing_changes(acme, alice, bob, client_for) -> None:
    tier = new_property(alice, acme)
    archived = new_property(alice, acme, key="old", label="Old")
    property_services.property_set_archived(
        workspace=acme, actor=alice, property_id=archived.pk, archived=True
    )
    before, logs_before = snapshot(acme), AuditLog.objects.count()
    agent = client_for(bob)
    requests = [
        *write_requests(acme, tier),
        ("post", url("property_archive", property_id=archived.pk), {"archived": "0"}),
    ]

    statuses = [send(agent, method, target, data) for method, target, data in requests]

    assert statuses == [403] * len(requests)
    assert snapshot(acme) == before
    assert AuditLog.objects.count() == logs_before


def test_outsider_gets_404_on_every_properties_url_and_nothing_changes(
    acme, globex, alice, charlie, client_for
) -> None:
    tier = new_property(alice, acme)
    before, logs_before = snapshot(acme), AuditLog.objects.count()
    outsider = client_for(charlie)
    requests = [("get", url("properties"), {}), *write_requests(acme, tier)]
    requests += [
        ("get", url("property_archive", property_id=tier.pk), {}),
        ("get", url("property_reorder"), {}),
    ]

    statuses = [send(outsider, method, target, data) for method, target, data in requests]

    assert statuses == [404] * len(requests)
    assert snapshot(acme) == before
    assert AuditLog.objects.count() == logs_before


def test_a_property_of_another_workspace_is_a_404_and_unchanged(
    acme, globex, alice, charlie, client_for
) -> None:
    theirs = new_property(charlie, globex)
    before = snapshot(globex)
    owner = client_for(alice)

    statuses = [
        owner.get(url("property_edit", property_id=theirs.pk)).status_code,
        owner.post(
            url("property_edit", property_id=theirs.pk), {"label": "Mine", "options": "A"}
        ).status_code,
        owner.post(
            url("property_edit", property_id=theirs.pk), {"intent": "visibility", "is_visible": "0"}
        ).status_code,
        owner.post(url("property_archive", property_id=theirs.pk), {"archived": "1"}).status_code,
    ]

    assert statuses == [404, 404, 404, 404]
    assert snapshot(globex) == before
    assert audit_actions(globex) == ["property.created"]


def test_anonymous_visitors_are_sent_to_sign_in(acme, client) -> None:
    for target in (url("properties"), url("property_new"), url("property_reorder")):
        response = client.get(target)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
        assert response.url == f"/accounts/login/?next={target}"
