from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relasi.accounts.models import SignInThrottle, User
from relasi.core.models import AuditLog
from tests.conftest import PASSWORD

LOCK_MESSAGE = "Too many failed sign-ins. For your security, try again in"


def sign_in(client: Client, email: str, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": email, "password": password})


def test_right_password_signs_in_and_lands_in_the_workspace(alice: User, acme) -> None:
    client = Client()
    response = sign_in(client, "alice@acme.test", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("web:home")
    assert client.get(response.url).url == reverse("web:workspaces")


def test_wrong_password_shows_one_message_without_revealing_the_account(alice: User) -> None:
    client = Client()
    known = sign_in(client, "alice@acme.test", "Wrong!Pass1")
    unknown = sign_in(client, "nobody@acme.test", "Wrong!Pass1")
    assert known.status_code == unknown.status_code == 200
    assert "The email or password is not right." in known.content.decode()
    assert "The email or password is not right." in unknown.content.decode()


def test_after_the_limit_even_the_right_password_is_refused_until_the_lock_ends(
    alice: User, settings
) -> None:
    settings.SIGN_IN_FAILURE_LIMIT = 3
    settings.SIGN_IN_LOCKOUT = timedelta(minutes=15)
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(2):
            assert LOCK_MESSAGE not in sign_in(client, "alice@acme.test", "Wrong!Pass1").content.decode()
        third = sign_in(client, "alice@acme.test", "Wrong!Pass1")
        assert LOCK_MESSAGE in third.content.decode()
        # when: the right password during the lock
        locked = sign_in(client, "alice@acme.test", PASSWORD)
        # then: refused, not signed in
        assert locked.status_code == 200
        assert f"{LOCK_MESSAGE} 15 minutes." in locked.content.decode()
        assert "_auth_user_id" not in client.session
        # when: the lock has passed
        traveller.shift(timedelta(minutes=15, seconds=1))
        after = sign_in(client, "alice@acme.test", PASSWORD)
        assert after.status_code == 302
        assert not SignInThrottle.objects.filter(email="alice@acme.test").exists()


def test_the_lock_is_per_address_and_the_same_for_unknown_emails(alice: User, settings) -> None:
    settings.SIGN_IN_FAILURE_LIMIT = 2
    attacker = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(2):
        sign_in(attacker, "ghost@acme.test", "Wrong!Pass1")
        sign_in(attacker, "alice@acme.test", "Wrong!Pass1")
    assert LOCK_MESSAGE in sign_in(attacker, "ghost@acme.test", "x").content.decode()
    assert LOCK_MESSAGE in sign_in(attacker, "alice@acme.test", PASSWORD).content.decode()
    # alice from her own address is not locked out by the attacker
    assert sign_in(Client(REMOTE_ADDR="10.2.2.2"), "alice@acme.test", PASSWORD).status_code == 302


def test_staff_back_office_sign_in_is_throttled_too(db, settings) -> None:
    settings.SIGN_IN_FAILURE_LIMIT = 2
    User.objects.create_user("staff@relasi.test", PASSWORD, full_name="Staff", is_staff=True)
    client = Client()
    for _ in range(2):
        sign_in(client, "staff@relasi.test", "Wrong!Pass1", path="/backoffice/login/")
    locked = sign_in(client, "staff@relasi.test", PASSWORD, path="/backoffice/login/")
    assert LOCK_MESSAGE in locked.content.decode()


def test_must_change_password_sends_the_user_to_the_change_page_until_changed(db) -> None:
    user = User.objects.create_user("temp@relasi.test", PASSWORD, full_name="Temp", must_change_password=True)
    client = Client()
    client.force_login(user)
    assert client.get("/app/").url == reverse("accounts:password_change")
    page = client.get(reverse("accounts:password_change"))
    assert "You signed in with a temporary password." in page.content.decode()
    weak = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "weakpass", "new_password2": "weakpass"},
    )
    assert "The password needs an upper-case letter." in weak.content.decode()
    user.refresh_from_db()
    assert user.must_change_password is True
    done = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "N3w!Secret", "new_password2": "N3w!Secret"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.must_change_password is False
    assert user.check_password("N3w!Secret")
    assert AuditLog.objects.filter(action="user.password_changed", target_id=str(user.pk)).count() == 1
    assert client.get("/app/").status_code == 200


def test_password_reset_sends_a_link_that_sets_a_new_password(
    alice: User, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "alice@acme.test"})
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@acme.test"]
    assert message.subject == "Choose a new Relasi password"
    link = next(line for line in message.body.splitlines() if "/accounts/password/reset/" in line).strip()
    path = link.replace("http://127.0.0.1:8000", "")
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "Fresh!Pass9", "new_password2": "Fresh!Pass9"})
    assert done.url == reverse("accounts:login")
    alice.refresh_from_db()
    assert alice.check_password("Fresh!Pass9")


def test_password_reset_for_an_unknown_email_says_the_same_and_sends_nothing(db) -> None:
    response = Client().post(reverse("accounts:password_reset"), {"email": "nobody@relasi.test"})
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


@pytest.mark.parametrize("path", ["/accounts/login/", "/partners/login/"])
def test_sign_in_pages_render_with_csrf(path: str, db) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.content.decode()
    refused = client.post(path, {"username": "a@b.c", "password": "x"})
    assert refused.status_code == 403


def test_the_email_is_matched_whatever_its_case(alice: User, acme) -> None:
    response = sign_in(Client(), "  Alice@ACME.test ", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("web:home")


def test_the_partner_door_refuses_a_workspace_user_and_a_signed_in_one_is_told(alice: User, acme) -> None:
    from relasi.partners.services import partner_create

    client = Client()
    # a workspace owner with the right password is refused at the partner sign-in, and not signed in
    refused = sign_in(client, "alice@acme.test", PASSWORD, path="/partners/login/")
    assert refused.status_code == 200
    assert (
        "This is not a partner account. Workspace users sign in on the workspace sign-in page."
        in refused.content.decode()
    )
    assert "_auth_user_id" not in client.session
    # signed in at the workspace door, the partner portal says what the account is instead of "not found"
    sign_in(client, "alice@acme.test", PASSWORD)
    portal = client.get("/partners/")
    assert portal.status_code == 403
    assert "You are signed in as alice@acme.test, which is not a partner account." in portal.content.decode()
    # a partner signs in there as before
    partner_user = User.objects.create_user(email="mitra@example.com", password=PASSWORD, full_name="Mitra")
    partner_create(user=partner_user, actor=None, code="RPMITRA1")
    assert sign_in(Client(), "Mitra@Example.com", PASSWORD, path="/partners/login/").url == reverse(
        "partners:dashboard"
    )
