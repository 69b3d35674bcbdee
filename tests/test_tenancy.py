from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from relasi.core.models import AuditLog
from relasi.core.scoping import UnscopedQueryError
from relasi.customers.models import Customer
from relasi.tenancy.models import ApiKey, Membership, Role
from relasi.tenancy.services import api_key_create

WORKSPACE_PAGES = [
    "web:workspace_home",
    "billing:package_usage",
    "billing:subscription",
    "web:settings_members",
    "web:settings_api_keys",
    "customers:list",
    "customers:properties",
]


def test_a_tenant_query_without_a_workspace_raises(db) -> None:
    with pytest.raises(UnscopedQueryError):
        list(Customer.objects.all())
    with pytest.raises(UnscopedQueryError):
        Customer.objects.filter(full_name="x").exists()
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_workspace(None)
    with pytest.raises(UnscopedQueryError):
        Customer.objects.create(full_name="No workspace")


def test_scoped_query_sees_only_its_workspace(acme, globex) -> None:
    Customer.objects.create(workspace=acme, full_name="Acme customer")
    Customer.objects.create(workspace=globex, full_name="Globex customer")
    assert [c.full_name for c in Customer.objects.for_workspace(acme)] == ["Acme customer"]


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_outsider_gets_404_on_every_workspace_page(name: str, acme, globex, charlie, client_for) -> None:
    response = client_for(charlie).get(reverse(name, kwargs={"workspace_slug": "acme"}))
    assert response.status_code == 404


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_anonymous_is_sent_to_sign_in(name: str, acme, client) -> None:
    url = reverse(name, kwargs={"workspace_slug": "acme"})
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert response.url == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(
    ("name", "agent_status"),
    [
        (
            n,
            403 if n in ("web:settings_api_keys", "billing:package_usage", "billing:subscription") else 200,
        )
        for n in WORKSPACE_PAGES
    ],
)
def test_owner_admin_and_agent_open_workspace_pages(
    name: str, agent_status: int, acme, alice, dave, bob, client_for
) -> None:
    url = reverse(name, kwargs={"workspace_slug": "acme"})
    for member, status in ((alice, 200), (dave, 200), (bob, agent_status)):
        client = client_for(member)
        response = client.get(url)
        if name == "web:workspace_home":
            # the workspace's home sends every member on to the customer list
            assert (response.status_code, response["Location"]) == (302, "/app/acme/customers/")
            response = client.get(response["Location"])
        assert response.status_code == status, member.email


def test_outsider_cannot_change_members_or_keys_and_nothing_changes(
    acme, globex, alice, bob, charlie, client_for
) -> None:
    bob_membership = Membership.objects.for_workspace(acme).get(user=bob)
    key = ApiKey.objects.create(workspace=acme, name="Site", prefix="abcd1234", secret_hash="x")
    outsider = client_for(charlie)
    before = AuditLog.objects.count()
    responses = [
        outsider.post(
            reverse("web:settings_members", kwargs={"workspace_slug": "acme"}),
            {"email": "x@y.z", "role": "owner"},
        ),
        outsider.post(
            reverse(
                "web:settings_member_update",
                kwargs={"workspace_slug": "acme", "membership_id": bob_membership.pk},
            ),
            {"action": "remove"},
        ),
        outsider.post(reverse("web:settings_api_keys", kwargs={"workspace_slug": "acme"}), {"name": "Evil"}),
        outsider.post(
            reverse("web:settings_api_key_revoke", kwargs={"workspace_slug": "acme", "api_key_id": key.pk})
        ),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert Membership.objects.for_workspace(acme).count() == 3
    assert ApiKey.objects.for_workspace(acme).count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None
    assert AuditLog.objects.count() == before


def test_owner_invites_a_new_person_who_gets_an_email_to_set_a_password(
    acme, alice, client_for, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(
            reverse("web:settings_members", kwargs={"workspace_slug": "acme"}),
            {"email": "Dina@Acme.test", "full_name": "Dina", "role": "admin"},
        )
    assert response.status_code == 302
    membership = Membership.objects.for_workspace(acme).get(user__email="dina@acme.test")
    assert membership.role == Role.ADMIN
    assert not membership.user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["dina@acme.test"]]
    assert mail.outbox[0].subject == "You were added to Acme Indonesia on Relasi"
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert AuditLog.objects.filter(action="membership.invited", workspace=acme).count() == 1


def test_inviting_an_existing_member_is_a_field_error(acme, alice, client_for) -> None:
    response = client_for(alice).post(
        reverse("web:settings_members", kwargs={"workspace_slug": "acme"}),
        {"email": "bob@acme.test", "role": "agent"},
    )
    assert response.status_code == 400
    assert "This person is already a member of the workspace." in response.content.decode()
    assert Membership.objects.for_workspace(acme).count() == 3


@pytest.mark.parametrize("member", ["bob", "dave"])
def test_agent_cannot_invite_or_remove_and_nothing_changes(acme, alice, member, request, client_for) -> None:
    # admins manage keys and properties, but the people of the workspace are the owner's
    user = request.getfixturevalue(member)
    agent = client_for(user)
    alice_membership = Membership.objects.for_workspace(acme).get(user=alice)
    own_membership = Membership.objects.for_workspace(acme).get(user=user)
    audit_before = AuditLog.objects.count()
    invite = agent.post(
        reverse("web:settings_members", kwargs={"workspace_slug": "acme"}),
        {"email": "x@acme.test", "role": "owner"},
    )
    remove = agent.post(
        reverse(
            "web:settings_member_update",
            kwargs={"workspace_slug": "acme", "membership_id": alice_membership.pk},
        ),
        {"action": "remove"},
    )
    promote_self = agent.post(
        reverse(
            "web:settings_member_update",
            kwargs={"workspace_slug": "acme", "membership_id": own_membership.pk},
        ),
        {"action": "role", "role": "owner"},
    )
    assert (invite.status_code, remove.status_code) == (403, 403)
    assert promote_self.status_code == 403
    assert sorted(Membership.objects.for_workspace(acme).values_list("user__email", "role")) == [
        ("alice@acme.test", "owner"),
        ("bob@acme.test", "agent"),
        ("dave@acme.test", "admin"),
    ]
    assert AuditLog.objects.count() == audit_before


def test_owner_changes_a_role_and_removes_a_member(acme, alice, bob, client_for) -> None:
    owner = client_for(alice)
    bob_membership = Membership.objects.for_workspace(acme).get(user=bob)
    url = reverse(
        "web:settings_member_update", kwargs={"workspace_slug": "acme", "membership_id": bob_membership.pk}
    )
    owner.post(url, {"action": "role", "role": "admin"})
    bob_membership.refresh_from_db()
    assert bob_membership.role == Role.ADMIN
    owner.post(url, {"action": "remove"})
    assert not Membership.unscoped.filter(pk=bob_membership.pk).exists()
    assert list(
        AuditLog.objects.filter(workspace=acme, action__startswith="membership.")
        .values_list("action", flat=True)
        .order_by("id")
    ) == [
        "membership.role_changed",
        "membership.removed",
    ]


def test_the_last_owner_cannot_be_removed_or_demoted(acme, alice, client_for) -> None:
    own = Membership.objects.for_workspace(acme).get(user=alice)
    url = reverse("web:settings_member_update", kwargs={"workspace_slug": "acme", "membership_id": own.pk})
    page = client_for(alice).post(url, {"action": "remove"}, follow=True)
    assert "A workspace needs at least one owner." in page.content.decode()
    client_for(alice).post(url, {"action": "role", "role": "agent"})
    own.refresh_from_db()
    assert own.role == Role.OWNER


@pytest.mark.parametrize("manager", ["alice", "dave"])
def test_api_key_page_shows_the_token_once_and_stores_only_a_hash(acme, manager, request, client_for) -> None:
    client = client_for(request.getfixturevalue(manager))
    url = reverse("web:settings_api_keys", kwargs={"workspace_slug": "acme"})
    created = client.post(url, {"name": "Website"})
    # the creation redirects, so reloading the page that shows the token cannot create a second key
    assert (created.status_code, created["Location"]) == (302, url)
    body = client.get(url).content.decode()
    key = ApiKey.objects.for_workspace(acme).get()
    token_start = body.index("rls_" + key.prefix + "_")
    token = body[token_start : body.index("<", token_start)]
    assert len(token) == len("rls_") + 8 + 1 + 43
    assert token.split("_", 2)[2] not in key.secret_hash
    again = client.get(url).content.decode()
    assert token not in again
    assert ApiKey.objects.for_workspace(acme).count() == 1
    assert f"rls_{key.prefix}_…" in again


@pytest.mark.parametrize("manager", ["alice", "dave"])
def test_revoking_a_key_from_the_page(acme, alice, manager, request, client_for) -> None:
    issued = api_key_create(workspace=acme, actor=alice, name="Zapier")
    client_for(request.getfixturevalue(manager)).post(
        reverse(
            "web:settings_api_key_revoke", kwargs={"workspace_slug": "acme", "api_key_id": issued.api_key.pk}
        )
    )
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    assert AuditLog.objects.filter(action="api_key.revoked", target_id=str(issued.api_key.pk)).count() == 1


def test_an_agent_cannot_create_or_revoke_keys_and_nothing_changes(acme, alice, bob, client_for) -> None:
    # given a key made by the owner
    issued = api_key_create(workspace=acme, actor=alice, name="Zapier")
    audit_before = AuditLog.objects.count()
    agent = client_for(bob)
    # when the agent posts the API keys page's forms
    created = agent.post(
        reverse("web:settings_api_keys", kwargs={"workspace_slug": "acme"}), {"name": "Mine"}
    )
    revoked = agent.post(
        reverse(
            "web:settings_api_key_revoke", kwargs={"workspace_slug": "acme", "api_key_id": issued.api_key.pk}
        )
    )
    # then both are refused and nothing changed
    assert (created.status_code, revoked.status_code) == (403, 403)
    assert list(ApiKey.objects.for_workspace(acme).values_list("name", "revoked_at")) == [("Zapier", None)]
    assert AuditLog.objects.count() == audit_before
