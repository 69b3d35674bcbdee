"""Invited members stay "Invitation pending" on Settings › Members until they choose a password; owners resend
(a new link, the old one void, at most once a minute) or cancel (the membership, and the account the invitation
made when it is used nowhere else)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from relasi.accounts.models import User
from relasi.core.models import AuditLog
from relasi.tenancy.models import Membership, Role
from relasi.tenancy.services import membership_invite

from .conftest import PASSWORD

INVITED_AT = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)
MEMBERS_URL = "/app/acme/settings/members/"
LINK = re.compile(r"https?://\S+/accounts/password/reset/\S+/\S+/")


def _resend_url(membership: Membership) -> str:
    return reverse(
        "web:settings_member_invitation_resend",
        kwargs={"workspace_slug": membership.workspace.slug, "membership_id": membership.pk},
    )


def _cancel_url(membership: Membership) -> str:
    return reverse(
        "web:settings_member_invitation_cancel",
        kwargs={"workspace_slug": membership.workspace.slug, "membership_id": membership.pk},
    )


def _path_of(link: str) -> str:
    return urlsplit(link).path


def _link_in(message: mail.EmailMessage) -> str:
    links = LINK.findall(message.body)
    assert len(links) == 1, message.body
    return links[0]


@pytest.fixture
def dina(acme, alice, django_capture_on_commit_callbacks) -> Membership:
    """Dina, invited by alice as an agent at INVITED_AT: a new account without a password."""
    with time_machine.travel(INVITED_AT, tick=False), django_capture_on_commit_callbacks(execute=True):
        membership = membership_invite(
            workspace=acme, actor=alice, email="dina@acme.test", full_name="Dina Rahma", role=Role.AGENT
        )
    return membership


def _state(membership: Membership) -> tuple[object, ...]:
    """What a refused request must leave as it was."""
    user = User.objects.get(pk=membership.user_id)
    fresh = Membership.unscoped.filter(pk=membership.pk).values_list("role", "invitation_sent_at").first()
    return (fresh, user.password, Membership.unscoped.count(), User.objects.count(), AuditLog.objects.count())


# Links are opened soon after they were sent: the token would have expired at the real date.
OPENED_AT = INVITED_AT + timedelta(minutes=5)


def _link_works(link: str) -> bool:
    with time_machine.travel(OPENED_AT, tick=False):
        return bool(Client().get(_path_of(link), follow=True).context["validlink"])


def _set_password_through(link: str) -> None:
    """Follow an emailed link as the invited person would and choose a password."""
    visitor = Client()
    with time_machine.travel(OPENED_AT, tick=False):
        opened = visitor.get(_path_of(link), follow=True)
        assert opened.context["validlink"] is True
        chosen = visitor.post(
            opened.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD}
        )
    assert (chosen.status_code, chosen["Location"]) == (302, "/accounts/login/")


def test_an_invited_person_is_pending_until_they_choose_a_password(dina, alice, bob, client_for) -> None:
    # given Dina's invitation email
    assert [message.to for message in mail.outbox] == [["dina@acme.test"]]
    link = _link_in(mail.outbox[0])
    assert "Choose your password to start:" in mail.outbox[0].body
    assert "The link works once, for 3 days." in mail.outbox[0].body
    # then the owner sees her pending, with resend and cancel, and the others see only the badge
    owner_page = client_for(alice).get(MEMBERS_URL).content.decode()
    assert owner_page.count('data-testid="invitation-pending"') == 1
    assert 'Dina Rahma <span class="badge text-bg-warning" data-testid="invitation-pending">' in owner_page
    assert _resend_url(dina) in owner_page and _cancel_url(dina) in owner_page
    agent_page = client_for(bob).get(MEMBERS_URL).content.decode()
    assert agent_page.count("Invitation pending") == 1
    assert _resend_url(dina) not in agent_page and _cancel_url(dina) not in agent_page
    assert dina.is_pending is True

    # when she follows the link and chooses a password
    _set_password_through(link)

    # then she is a full member: no badge, Remove instead of resend and cancel
    dina.refresh_from_db()
    dina.user.refresh_from_db()
    assert dina.is_pending is False
    owner_page = client_for(alice).get(MEMBERS_URL).content.decode()
    assert "Invitation pending" not in owner_page
    assert _resend_url(dina) not in owner_page
    # and the link does not work a second time
    assert _link_works(link) is False


def test_resend_sends_a_new_link_and_the_old_one_stops_working(
    dina, alice, client_for, django_capture_on_commit_callbacks
) -> None:
    old_link = _link_in(mail.outbox[0])
    # when the owner resends the invitation two minutes later
    with (
        time_machine.travel(INVITED_AT + timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(alice).post(_resend_url(dina), follow=True)
    # then a second email goes out with another link, and the page says so
    assert response.status_code == 200
    assert (
        "A new invitation was sent to dina@acme.test. The link in the earlier one no longer works."
        in response.content.decode()
    )
    assert [message.to for message in mail.outbox] == [["dina@acme.test"], ["dina@acme.test"]]
    new_link = _link_in(mail.outbox[1])
    assert new_link != old_link
    dina.refresh_from_db()
    assert dina.invitation_sent_at == INVITED_AT + timedelta(minutes=2)
    assert list(
        AuditLog.objects.filter(workspace=dina.workspace, target_type="tenancy.membership")
        .order_by("id")
        .values_list("action", "actor_id")
    ) == [("membership.invited", alice.pk), ("membership.invitation_resent", alice.pk)]
    # and the old link is refused while the new one lets her choose a password
    assert _link_works(old_link) is False
    _set_password_through(new_link)
    assert User.objects.get(email="dina@acme.test").has_usable_password()


def test_resend_waits_a_minute_after_the_last_invitation(
    dina, alice, client_for, django_capture_on_commit_callbacks
) -> None:
    before = _state(dina)
    # when the owner resends 59 seconds after the invitation
    with (
        time_machine.travel(INVITED_AT + timedelta(seconds=59), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(alice).post(_resend_url(dina), follow=True)
    # then it is refused with the reason, and nothing is sent or changed
    assert (
        "An invitation went to dina@acme.test less than a minute ago. Wait a minute, then send it again."
        in response.content.decode()
    )
    assert len(mail.outbox) == 1
    assert _state(dina) == before
    # when a minute has passed, then it goes
    with (
        time_machine.travel(INVITED_AT + timedelta(seconds=60), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client_for(alice).post(_resend_url(dina))
    assert len(mail.outbox) == 2


def test_cancel_removes_the_membership_and_the_unused_account(dina, alice, client_for) -> None:
    # when the owner cancels Dina's invitation
    response = client_for(alice).post(_cancel_url(dina), follow=True)
    # then her membership and the account the invitation made are gone, and both are audited
    assert "The invitation was cancelled." in response.content.decode()
    assert "dina@acme.test" not in response.content.decode()
    assert not Membership.unscoped.filter(pk=dina.pk).exists()
    assert not User.objects.filter(email="dina@acme.test").exists()
    assert list(
        AuditLog.objects.filter(workspace=dina.workspace)
        .order_by("id")
        .values_list("action", "target_type", "actor_id")
    )[-2:] == [
        ("membership.invitation_cancelled", "tenancy.membership", alice.pk),
        ("user.deleted", "accounts.user", alice.pk),
    ]
    # and her old link leads nowhere
    assert _link_works(_link_in(mail.outbox[0])) is False


def test_cancel_keeps_an_account_invited_to_another_workspace(
    dina, globex, alice, charlie, client_for, django_capture_on_commit_callbacks
) -> None:
    # given Dina invited to globex too, still without a password
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere = membership_invite(
            workspace=globex, actor=charlie, email="dina@acme.test", full_name="", role=Role.ADMIN
        )
    # then globex's email also lets her choose a password
    assert "/accounts/password/reset/" in mail.outbox[-1].body
    # when acme's owner cancels acme's invitation
    client_for(alice).post(_cancel_url(dina))
    # then only acme's membership goes: the account is globex's invitation too
    assert not Membership.unscoped.filter(pk=dina.pk).exists()
    assert Membership.unscoped.filter(pk=elsewhere.pk, user__email="dina@acme.test").exists()
    assert not AuditLog.objects.filter(action="user.deleted").exists()


def test_a_member_who_joined_has_no_invitation_to_resend_or_cancel(acme, alice, bob, client_for) -> None:
    # given bob, who has a password
    bob_membership = Membership.objects.for_workspace(acme).get(user=bob)
    before = _state(bob_membership)
    owner = client_for(alice)
    # when the owner tries to resend or cancel his invitation
    for url in (_resend_url(bob_membership), _cancel_url(bob_membership)):
        response = owner.post(url, follow=True)
        # then each is refused with the reason and nothing changes
        assert (
            "bob@acme.test has already joined: there is no invitation to resend or cancel."
            in response.content.decode()
        )
    assert _state(bob_membership) == before
    assert mail.outbox == []


@pytest.mark.parametrize(("member", "status"), [("bob", 403), ("dave", 403), ("charlie", 404)])
def test_only_owners_resend_or_cancel_and_nothing_changes(
    dina, globex, member, status, request, client_for: Callable[[User], Client]
) -> None:
    # given an agent (bob), an admin (dave) and an outsider (charlie)
    mail.outbox.clear()
    before = _state(dina)
    someone = client_for(request.getfixturevalue(member))
    # when each tries to resend, two minutes later, and to cancel
    with time_machine.travel(INVITED_AT + timedelta(minutes=2), tick=False):
        resend = someone.post(_resend_url(dina))
        cancel = someone.post(_cancel_url(dina))
    # then both are refused and nothing changed, nothing was sent
    assert (resend.status_code, cancel.status_code) == (status, status)
    assert _state(dina) == before
    assert mail.outbox == []


def test_another_workspaces_invitation_is_not_found(
    acme, alice, globex, charlie, client_for, django_capture_on_commit_callbacks
) -> None:
    # given a pending invitation in globex
    with django_capture_on_commit_callbacks(execute=True):
        theirs = membership_invite(
            workspace=globex, actor=charlie, email="eko@globex.test", full_name="Eko", role=Role.AGENT
        )
    before = _state(theirs)
    # when acme's owner names it under acme
    owner = client_for(alice)
    for name in ("web:settings_member_invitation_resend", "web:settings_member_invitation_cancel"):
        url = reverse(name, kwargs={"workspace_slug": "acme", "membership_id": theirs.pk})
        assert owner.post(url).status_code == 404
    # then it is untouched
    assert _state(theirs) == before
