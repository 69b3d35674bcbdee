"""Who may do what: one permission module, checked by the services themselves, whoever calls them.

The cast: alice owns acme, dave is an admin there, bob is an agent, charlie is an outsider."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from relasi.core.audit import Actor
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.exports import customer_export_create
from relasi.customers.filters import CustomerFilters
from relasi.customers.models import Customer, CustomerExport, CustomerImport, PropertyDefinition
from relasi.customers.property_services import property_create
from relasi.customers.services import customers_delete
from relasi.tenancy.models import ApiKey, Membership, Role, Workspace
from relasi.tenancy.permissions import (
    API_KEY_PERMISSIONS,
    Permission,
    permission_require,
    permissions_of,
)
from relasi.tenancy.services import api_key_create, membership_invite, workspace_set_agents_bulk_actions
from tests.customers.importing import started

EVERYTHING = frozenset(Permission)
BULK = {Permission.IMPORT_CUSTOMERS, Permission.EXPORT_CUSTOMERS, Permission.BULK_DELETE_CUSTOMERS}
FILE = b"Nama,No HP\nAni,081234567890\nBad,12ab\n"


def test_each_role_has_exactly_its_permissions(acme, alice, dave, bob, charlie) -> None:
    assert permissions_of(workspace=acme, actor=alice) == EVERYTHING
    assert permissions_of(workspace=acme, actor=dave) == EVERYTHING - {
        Permission.MANAGE_MEMBERS,
        Permission.MANAGE_WORKSPACE,
    }
    assert permissions_of(workspace=acme, actor=bob) == frozenset()
    assert permissions_of(workspace=acme, actor=charlie) == frozenset()
    assert permissions_of(workspace=acme, actor=Actor(system="purge")) == EVERYTHING


def test_an_api_key_acts_for_its_own_workspace_only(acme, globex, alice) -> None:
    key = api_key_create(workspace=acme, actor=alice, name="Sync").api_key
    assert permissions_of(workspace=acme, actor=Actor(api_key=key)) == API_KEY_PERMISSIONS
    assert permissions_of(workspace=globex, actor=Actor(api_key=key)) == frozenset()
    assert Permission.MANAGE_API_KEYS not in API_KEY_PERMISSIONS
    assert Permission.MANAGE_MEMBERS not in API_KEY_PERMISSIONS


def test_the_owner_can_let_agents_do_bulk_actions(acme, alice, bob) -> None:
    workspace_set_agents_bulk_actions(workspace=acme, actor=alice, allowed=True)
    assert permissions_of(workspace=acme, actor=bob) == BULK
    assert (
        AuditLog.objects.filter(action="workspace.agents_bulk_actions_changed", workspace=acme).count() == 1
    )
    workspace_set_agents_bulk_actions(workspace=acme, actor=alice, allowed=False)
    assert permissions_of(workspace=acme, actor=bob) == frozenset()


@pytest.mark.parametrize("member", ["dave", "bob"])
def test_only_the_owner_changes_what_agents_may_do_and_nothing_changes(acme, member, request) -> None:
    with pytest.raises(PermissionDenied):
        workspace_set_agents_bulk_actions(workspace=acme, actor=request.getfixturevalue(member), allowed=True)
    acme.refresh_from_db()
    assert acme.agents_bulk_actions is False
    assert not AuditLog.objects.filter(action="workspace.agents_bulk_actions_changed").exists()


def test_the_refusal_names_who_may(acme, bob) -> None:
    with pytest.raises(PermissionDenied) as refused:
        permission_require(workspace=acme, actor=bob, permission=Permission.MANAGE_PROPERTIES)
    assert str(refused.value) == "Only owners and admins can change customer properties."


# --- Services refuse on their own (defence in depth) ---------------------------------------------------------


def test_services_refuse_an_agent_whoever_calls_them(acme, bob) -> None:
    properties = PropertyDefinition.objects.for_workspace(acme).count()
    first = Customer.objects.create(workspace=acme, full_name="A")
    second = Customer.objects.create(workspace=acme, full_name="B")
    refusals = [
        lambda: property_create(workspace=acme, actor=bob, label="Tier", key="tier", kind="text"),
        lambda: api_key_create(workspace=acme, actor=bob, name="Mine"),
        lambda: membership_invite(
            workspace=acme, actor=bob, email="x@acme.test", full_name="X", role="owner"
        ),
        lambda: customers_delete(workspace=acme, actor=bob, customer_ids=[first.pk, second.pk]),
        lambda: customer_export_create(workspace=acme, actor=bob, filters=CustomerFilters()),
        lambda: imports.customer_import_upload(
            workspace=acme, actor=bob, file=SimpleUploadedFile("c.csv", FILE), original_name="c.csv"
        ),
    ]
    for refusal in refusals:
        with pytest.raises(PermissionDenied):
            refusal()
    # and nothing changed
    assert PropertyDefinition.objects.for_workspace(acme).count() == properties
    assert not ApiKey.objects.for_workspace(acme).exists()
    assert Membership.objects.for_workspace(acme).count() == 3
    assert Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True).count() == 2
    assert not CustomerExport.objects.for_workspace(acme).exists()
    assert not CustomerImport.objects.for_workspace(acme).exists()


def test_an_admin_may_do_what_an_owner_may_except_people(acme, dave) -> None:
    first = Customer.objects.create(workspace=acme, full_name="A")
    second = Customer.objects.create(workspace=acme, full_name="B")
    property_create(workspace=acme, actor=dave, label="Tier", key="tier", kind="text")
    api_key_create(workspace=acme, actor=dave, name="Dave's")
    assert customers_delete(workspace=acme, actor=dave, customer_ids=[first.pk, second.pk]) == 2
    with pytest.raises(PermissionDenied):
        membership_invite(workspace=acme, actor=dave, email="x@acme.test", full_name="X", role="agent")
    assert Membership.objects.for_workspace(acme).count() == 3


def test_an_agent_deletes_one_customer_but_not_several(acme, bob) -> None:
    first = Customer.objects.create(workspace=acme, full_name="A")
    second = Customer.objects.create(workspace=acme, full_name="B")
    assert customers_delete(workspace=acme, actor=bob, customer_ids=[first.pk]) == 1
    with pytest.raises(PermissionDenied):
        customers_delete(workspace=acme, actor=bob, customer_ids=[second.pk, first.pk])
    second.refresh_from_db()
    assert second.deleted_at is None


# --- Pages ----------------------------------------------------------------------------------------------------


def test_an_agent_does_not_see_or_reach_bulk_actions(acme, bob, client_for) -> None:
    Customer.objects.create(workspace=acme, full_name="A")
    agent = client_for(bob)
    page = agent.get(reverse("customers:list", kwargs={"workspace_slug": "acme"})).content.decode()
    assert 'data-testid="export-button"' not in page
    assert "customers/import/" not in page
    # the selection bar offers the edits open to every member, not the bulk delete
    assert 'data-testid="bulk-owner"' in page
    assert 'data-testid="bulk-delete"' not in page
    assert agent.get(reverse("customers:import_upload", kwargs={"workspace_slug": "acme"})).status_code == 403
    export = agent.post(reverse("customers:export", kwargs={"workspace_slug": "acme"}), {})
    assert export.status_code == 403
    assert not AuditLog.objects.filter(action="customer.exported").exists()


def test_an_agent_allowed_by_the_owner_sees_and_reaches_bulk_actions(
    agents_may_bulk, bob, client_for
) -> None:
    Customer.objects.create(workspace=agents_may_bulk, full_name="A")
    agent = client_for(bob)
    page = agent.get(reverse("customers:list", kwargs={"workspace_slug": "acme"})).content.decode()
    assert 'data-testid="export-button"' in page
    assert 'data-testid="bulk-delete"' in page
    assert agent.get(reverse("customers:import_upload", kwargs={"workspace_slug": "acme"})).status_code == 200
    assert agent.post(reverse("customers:export", kwargs={"workspace_slug": "acme"}), {}).status_code == 200


def test_an_agent_selecting_several_customers_is_told_why_nothing_was_deleted(acme, bob, client_for) -> None:
    first = Customer.objects.create(workspace=acme, full_name="A")
    second = Customer.objects.create(workspace=acme, full_name="B")
    agent = client_for(bob)
    response = agent.post(
        reverse("customers:delete", kwargs={"workspace_slug": "acme"}), {"ids": [first.pk, second.pk]}
    )
    # sent back to the list, where the refusal is the message
    assert (response.status_code, response["Location"]) == (302, "/app/acme/customers/")
    assert (
        "Only owners and admins can delete several customers at once, unless the owner allows agents."
        in agent.get(response["Location"]).content.decode()
    )
    assert Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True).count() == 2


def test_the_owner_sets_what_agents_may_do_on_the_members_page(acme, alice, client_for) -> None:
    url = reverse("web:settings_agent_permissions", kwargs={"workspace_slug": "acme"})
    members = client_for(alice).get(reverse("web:settings_members", kwargs={"workspace_slug": "acme"}))
    assert 'data-testid="agent-permissions"' in members.content.decode()
    response = client_for(alice).post(url, {"agents_bulk_actions": ["0", "1"]})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.agents_bulk_actions is True
    client_for(alice).post(url, {"agents_bulk_actions": "0"})
    acme.refresh_from_db()
    assert acme.agents_bulk_actions is False


@pytest.mark.parametrize(("member", "status"), [("dave", 403), ("bob", 403), ("charlie", 404)])
def test_others_cannot_set_what_agents_may_do_and_nothing_changes(
    acme, globex, member, status, request, client_for
) -> None:
    url = reverse("web:settings_agent_permissions", kwargs={"workspace_slug": "acme"})
    response = client_for(request.getfixturevalue(member)).post(url, {"agents_bulk_actions": ["0", "1"]})
    assert response.status_code == status
    acme.refresh_from_db()
    assert acme.agents_bulk_actions is False
    assert not AuditLog.objects.filter(action="workspace.agents_bulk_actions_changed").exists()


# --- Files someone made --------------------------------------------------------------------------------------


def _finished_import(workspace: Workspace, actor: object) -> CustomerImport:
    customer_import = started(workspace, actor, FILE)  # type: ignore[arg-type]
    return imports.customer_import_run(workspace_id=workspace.pk, import_id=customer_import.pk)


@pytest.mark.parametrize(
    ("reader", "status"), [("dave", 200), ("alice", 200), ("bob", 403), ("charlie", 404)]
)
def test_an_error_file_is_for_its_importer_owners_and_admins(
    agents_may_bulk, dave, globex, reader, status, request, client_for
) -> None:
    # given an import run by dave, in a workspace where agents may import too
    customer_import = _finished_import(agents_may_bulk, dave)
    url = reverse(
        "customers:import_error_file", kwargs={"workspace_slug": "acme", "import_id": customer_import.pk}
    )
    progress = reverse(
        "customers:import_progress", kwargs={"workspace_slug": "acme", "import_id": customer_import.pk}
    )
    client = client_for(request.getfixturevalue(reader))
    assert client.get(url).status_code == status
    if reader == "bob":
        # the agent sees the counts, not the rows
        page = client.get(progress).content.decode()
        assert 'data-testid="failed-rows-private"' in page
        assert 'data-testid="import-errors"' not in page
        assert "12ab" not in page


def test_an_agents_own_error_file_is_theirs(agents_may_bulk, bob, client_for) -> None:
    customer_import = _finished_import(agents_may_bulk, bob)
    url = reverse(
        "customers:import_error_file", kwargs={"workspace_slug": "acme", "import_id": customer_import.pk}
    )
    assert client_for(bob).get(url).status_code == 200


def test_an_export_is_for_who_asked_for_it_owners_and_admins(
    agents_may_bulk, alice, dave, bob, client_for, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CUSTOMER_EXPORT_SYNC_LIMIT = 0
    Customer.objects.create(workspace=agents_may_bulk, full_name="A")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(dave).post(reverse("customers:export", kwargs={"workspace_slug": "acme"}), {})
    export = CustomerExport.objects.for_workspace(agents_may_bulk).get()
    url = reverse("customers:export_download", kwargs={"workspace_slug": "acme", "export_id": export.pk})
    assert client_for(dave).get(url).status_code == 200
    assert client_for(alice).get(url).status_code == 200
    assert client_for(bob).get(url).status_code == 403


def test_an_api_key_reads_its_own_imports_error_file(
    acme, acme_key, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/v1/customer-imports", {"file": SimpleUploadedFile("c.csv", FILE)}, **acme_key
        )
    import_id = response.json()["id"]
    errors = Client().get(f"/api/v1/customer-imports/{import_id}/errors.csv", **acme_key)
    assert errors.status_code == 200
    assert CustomerImport.objects.for_workspace(acme).get().created_by_api_key is not None


def test_a_session_agent_is_refused_an_api_import_and_nothing_is_stored(acme, bob, client_for) -> None:
    response = client_for(bob).post(
        "/api/v1/customer-imports", {"file": SimpleUploadedFile("c.csv", FILE)}, HTTP_X_WORKSPACE="acme"
    )
    assert response.status_code == 403
    assert response.json()["title"] == (
        "Only owners and admins can import customers, unless the owner allows agents."
    )
    assert not CustomerImport.objects.for_workspace(acme).exists()


def test_the_roles_of_the_cast(acme, alice, dave, bob) -> None:
    # the fixtures this file relies on
    assert dict(Membership.objects.for_workspace(acme).values_list("user__email", "role")) == {
        "alice@acme.test": Role.OWNER,
        "dave@acme.test": Role.ADMIN,
        "bob@acme.test": Role.AGENT,
    }


def test_an_api_key_cannot_read_a_persons_failed_rows(acme, alice, acme_key) -> None:
    # given an import alice ran on the page, with a failed row
    customer_import = _finished_import(acme, alice)
    # when an integration asks for its failed rows, then it is refused
    response = Client().get(f"/api/v1/customer-imports/{customer_import.pk}/errors.csv", **acme_key)
    assert response.status_code == 403
    assert (
        response.json()["title"] == "Only the person who made this file, owners and admins can download it."
    )


def test_an_agent_cannot_open_or_start_someone_elses_upload(agents_may_bulk, dave, bob, client_for) -> None:
    # given a file dave uploaded and has not started yet
    upload = imports.customer_import_upload(
        workspace=agents_may_bulk,
        actor=dave,
        file=SimpleUploadedFile("c.csv", b"Nama,No HP\nBudi Rahasia,081234567890\n"),
        original_name="c.csv",
    )
    url = reverse("customers:import_mapping", kwargs={"workspace_slug": "acme", "import_id": upload.pk})
    # when bob, who may import, opens its mapping page or posts a mapping, then both are refused
    page = client_for(bob).get(url)
    started_by_bob = client_for(bob).post(url, {"column_0": "full_name", "duplicate_mode": "skip"})
    assert (page.status_code, started_by_bob.status_code) == (403, 403)
    assert "Budi Rahasia" not in page.content.decode()
    upload.refresh_from_db()
    assert upload.status == "uploaded"
    # and dave, and the owner, may
    assert client_for(dave).get(url).status_code == 200


def test_no_actor_or_an_empty_one_may_do_nothing(acme) -> None:
    assert permissions_of(workspace=acme, actor=None) == frozenset()
    assert permissions_of(workspace=acme, actor=Actor()) == frozenset()
    with pytest.raises(PermissionDenied):
        property_create(workspace=acme, actor=None, label="Tier", key="tier", kind="text")
    assert not PropertyDefinition.objects.for_workspace(acme).filter(key="tier").exists()


def test_a_refused_page_says_why_inside_the_app(acme, bob, client_for) -> None:
    response = client_for(bob).get(reverse("customers:import_upload", kwargs={"workspace_slug": "acme"}))
    assert response.status_code == 403
    page = response.content.decode()
    assert (
        '<p data-testid="forbidden-reason">Only owners and admins can import customers, unless the owner allows '
        "agents.</p>" in page
    )
    # the app's own layout: the workspace's navigation is there
    assert reverse("web:settings_members", kwargs={"workspace_slug": "acme"}) in page


def test_a_refusal_outside_a_workspace_keeps_the_general_page(rf) -> None:
    from django.core.exceptions import PermissionDenied

    from relasi.web.views import permission_denied

    response = permission_denied(rf.get("/backoffice/"), PermissionDenied())
    assert response.status_code == 403
    assert "Your role in this workspace does not allow this." in response.content.decode()
