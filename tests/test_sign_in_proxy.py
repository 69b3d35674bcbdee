"""Sign-in behind a proxy (issue 8, defect 8): the client's own address from the trusted proxy's header, a lock per
email and address that only the one who failed runs into, and a slower lock per account that a stranger alone cannot
set off and that the owner's own password reset lifts. Every request goes through the sign-in pages, with the
proxy's address in REMOTE_ADDR and the forwarding header as nginx's `$proxy_add_x_forwarded_for` writes it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relasi.accounts.models import SignInAccountThrottle, SignInThrottle, User
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"
OWNER = "198.51.100.20"
STRANGER = "203.0.113.7"
WRONG = "Wrong!Pass1"
NEW_PASSWORD = "Fresh!Pass9"
NOT_RIGHT = "The email or password is not right."
LOCKED_15 = "Too many failed sign-ins. For your security, try again in 15 minutes."
LOCKED_60 = "Too many failed sign-ins. For your security, try again in 60 minutes."


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    # The numbers the tests speak of, whatever the environment sets.
    settings.SIGN_IN_FAILURE_LIMIT = 5
    settings.SIGN_IN_LOCKOUT = timedelta(minutes=15)
    settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT = 50
    settings.SIGN_IN_ACCOUNT_WINDOW = timedelta(hours=24)
    settings.SIGN_IN_ACCOUNT_LOCKOUT = timedelta(hours=1)
    settings.SIGN_IN_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.SIGN_IN_TRUSTED_PROXIES = 1


def sign_in(
    client: Client,
    email: str,
    password: str,
    *,
    forwarded_for: str | None,
    remote: str = PROXY,
    path: str = "/accounts/login/",
):
    extra = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(path, {"username": email, "password": password}, **extra)


def text(response) -> str:
    return response.content.decode()


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def pair_failures(email: str) -> dict[str, int]:
    return dict(SignInThrottle.objects.filter(email=email).values_list("ip_address", "failures"))


def fail_from_many_addresses(email: str, addresses: int, failures_each: int = 5, *, last: int = 5) -> str:
    """`failures_each` wrong passwords from each of `addresses` addresses (203.0.113.1, .2, …), `last` from the
    last one; returns the page text of the last attempt."""
    page = ""
    for number in range(1, addresses + 1):
        client = Client()
        for _ in range(last if number == addresses else failures_each):
            page = text(sign_in(client, email, WRONG, forwarded_for=f"203.0.113.{number}"))
    return page


def reset_password(email: str, django_capture_on_commit_callbacks, *, forwarded_for: str = OWNER) -> None:
    """The real flow: ask for a reset, follow the emailed link, choose a new password."""
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(reverse("accounts:password_reset"), {"email": email})
    assert asked.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line)
    form_page = client.get(link.strip().replace("http://127.0.0.1:8000", ""), follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.url == reverse("accounts:login")


# --- the address -------------------------------------------------------------------------------------------


@pytest.fixture
def door(request, db) -> tuple[str, str]:
    """Each sign-in door with an account that may use it: (path, email)."""
    from relasi.partners.services import partner_create

    if request.param == "workspace":
        User.objects.create_user("owner@relasi.test", PASSWORD, full_name="Owner")
        return "/accounts/login/", "owner@relasi.test"
    if request.param == "partners":
        partner = User.objects.create_user("mitra@relasi.test", PASSWORD, full_name="Mitra")
        partner_create(user=partner, actor=None, code="RPMITRA1")
        return "/partners/login/", "mitra@relasi.test"
    User.objects.create_user("staff@relasi.test", PASSWORD, full_name="Staff", is_staff=True)
    return "/backoffice/login/", "staff@relasi.test"


@pytest.mark.parametrize("door", ["workspace", "partners", "backoffice"], indirect=True)
def test_behind_one_proxy_a_strangers_five_failures_lock_the_stranger_and_not_the_owner(
    door: tuple[str, str],
) -> None:
    path, email = door
    stranger = Client()
    # given: five wrong passwords for the owner's email from the stranger's own address, all through the proxy
    pages = [text(sign_in(stranger, email, WRONG, forwarded_for=STRANGER, path=path)) for _ in range(5)]
    assert [LOCKED_15 in page for page in pages] == [False, False, False, False, True]
    # when: the owner signs in from another address, through the same proxy
    owner = Client()
    response = sign_in(owner, email, PASSWORD, forwarded_for=OWNER, path=path)
    # then: the owner is in, the stranger stays locked even with the right password
    assert response.status_code == 302
    assert signed_in(owner)
    refused = sign_in(stranger, email, PASSWORD, forwarded_for=STRANGER, path=path)
    assert refused.status_code == 200
    assert LOCKED_15 in text(refused)
    assert not signed_in(stranger)
    assert pair_failures(email) == {STRANGER: 5}


def test_a_spoofed_left_most_forwarded_address_does_not_change_the_key(alice: User) -> None:
    stranger = Client()
    # given: one trusted proxy; the stranger writes a different address of their own choosing, the owner's too,
    # before the one the proxy appends
    spoofed = ["192.0.2.1", "192.0.2.2", OWNER, "192.0.2.4, 192.0.2.5", "not an address"]
    pages = [
        text(sign_in(stranger, "alice@acme.test", WRONG, forwarded_for=f"{left}, {STRANGER}"))
        for left in spoofed
    ]
    # then: every failure counted under the address the proxy saw, and that address locked at the fifth
    assert [LOCKED_15 in page for page in pages] == [False, False, False, False, True]
    assert pair_failures("alice@acme.test") == {STRANGER: 5}
    # and the owner, whose address the stranger wrote, is not locked
    assert sign_in(Client(), "alice@acme.test", PASSWORD, forwarded_for=OWNER).status_code == 302


def test_with_no_trusted_proxy_the_forwarded_header_is_ignored(alice: User, settings) -> None:
    # given: Relasi served without a proxy it trusts
    settings.SIGN_IN_TRUSTED_PROXIES = 0
    client = Client()
    # when: five failures from one connection, each naming another client address in the header
    pages = [
        text(sign_in(client, "alice@acme.test", WRONG, remote="192.0.2.50", forwarded_for=f"203.0.113.{n}"))
        for n in range(1, 6)
    ]
    # then: counted under the connection's address; that address is locked, another is not
    assert [LOCKED_15 in page for page in pages] == [False, False, False, False, True]
    assert pair_failures("alice@acme.test") == {"192.0.2.50": 5}
    other = sign_in(Client(), "alice@acme.test", PASSWORD, remote="192.0.2.51", forwarded_for=None)
    assert other.status_code == 302


MALFORMED = [
    None,
    "",
    "   ",
    "not-an-ip",
    f"{STRANGER}:443",
    f"{STRANGER},",
    "999.1.1.1",
    "fe80::1%eth0",
    "[::1]",
]


@pytest.mark.parametrize("forwarded_for", MALFORMED)
def test_a_missing_or_malformed_forwarded_address_falls_back_to_the_connection(
    alice: User, forwarded_for: str | None
) -> None:
    # when: one trusted proxy, and what should be the address it appended is not one
    sign_in(Client(), "alice@acme.test", WRONG, forwarded_for=forwarded_for)
    # then: the failure is counted under REMOTE_ADDR
    assert pair_failures("alice@acme.test") == {PROXY: 1}


def test_two_trusted_proxies_take_the_second_address_from_the_right(alice: User, settings) -> None:
    # given: a load balancer in front of nginx; each appends the address it was connected from
    settings.SIGN_IN_TRUSTED_PROXIES = 2
    # when
    sign_in(Client(), "alice@acme.test", WRONG, forwarded_for=f"192.0.2.9, {STRANGER}, 10.0.0.1")
    # and a header shorter than the two proxies that should have written it
    sign_in(Client(), "alice@acme.test", WRONG, forwarded_for=STRANGER)
    # then
    assert pair_failures("alice@acme.test") == {STRANGER: 1, PROXY: 1}


def test_an_ipv6_client_is_counted_by_its_64_network(alice: User) -> None:
    stranger = Client()
    # given: five failures, each from another address of the same /64
    pages = [
        text(sign_in(stranger, "alice@acme.test", WRONG, forwarded_for=f"2001:db8:1:2::{n}"))
        for n in range(1, 6)
    ]
    # then: one count for the network, locked at the fifth; the owner in another /64 signs in
    assert [LOCKED_15 in page for page in pages] == [False, False, False, False, True]
    assert pair_failures("alice@acme.test") == {"2001:db8:1:2::": 5}
    assert sign_in(Client(), "alice@acme.test", PASSWORD, forwarded_for="2001:db8:1:3::1").status_code == 302


# --- the account's limit -------------------------------------------------------------------------------------


def test_a_stranger_alone_never_sets_off_the_account_lock(alice: User) -> None:
    stranger = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        # given: one address that waits out every lock and tries again, 20 failures within the hour
        for _round in range(4):
            pages = [
                text(sign_in(stranger, "alice@acme.test", WRONG, forwarded_for=STRANGER)) for _ in range(5)
            ]
            assert LOCKED_15 in pages[-1]
            traveller.shift(timedelta(minutes=15, seconds=1))
        # then: that address added 5 to the account's count, and the owner signs in
        assert SignInAccountThrottle.objects.get(email="alice@acme.test").failures == 5
        assert sign_in(Client(), "alice@acme.test", PASSWORD, forwarded_for=OWNER).status_code == 302


def test_the_account_locks_at_fifty_failures_from_ten_addresses_and_the_owners_reset_lifts_it(
    alice: User, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        # given: 49 failures, 5 from each of 9 addresses and 4 from a tenth
        fail_from_many_addresses("alice@acme.test", addresses=10, last=4)
        assert SignInAccountThrottle.objects.get(email="alice@acme.test").failures == 49
        # then: not yet a lock of the account
        still_open = Client()
        assert sign_in(still_open, "alice@acme.test", PASSWORD, forwarded_for=OWNER).status_code == 302
        # when: the fiftieth
        fiftieth = sign_in(Client(), "alice@acme.test", WRONG, forwarded_for="203.0.113.10")
        # then: the account is locked for an hour for every address, the owner's too, right password or not
        assert LOCKED_60 in text(fiftieth)
        owner = Client()
        refused = sign_in(owner, "alice@acme.test", PASSWORD, forwarded_for=OWNER)
        assert refused.status_code == 200
        assert LOCKED_60 in text(refused)
        assert not signed_in(owner)

        # when: the owner resets the password through the emailed link
        reset_password("alice@acme.test", django_capture_on_commit_callbacks)

        # then: every lock and count of the account is gone; the owner signs in with the new password
        assert not SignInThrottle.objects.filter(email="alice@acme.test").exists()
        assert not SignInAccountThrottle.objects.filter(email="alice@acme.test").exists()
        assert sign_in(owner, "alice@acme.test", NEW_PASSWORD, forwarded_for=OWNER).status_code == 302
        assert signed_in(owner)
        # and an address locked before starts afresh: a wrong password is just wrong
        assert NOT_RIGHT in text(sign_in(Client(), "alice@acme.test", WRONG, forwarded_for="203.0.113.1"))


def test_after_the_limit_every_failure_in_the_window_locks_the_account_again(alice: User) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        # given: the account locked by 50 failures from 10 addresses
        assert LOCKED_60 in fail_from_many_addresses("alice@acme.test", addresses=10)
        # when: the hour passes, and one more wrong password comes, from an address that never failed before
        traveller.shift(timedelta(hours=1, seconds=1))
        assert sign_in(Client(), "alice@acme.test", WRONG, forwarded_for="192.0.2.77").status_code == 200
        # then: locked again for an hour, at once
        assert LOCKED_60 in text(sign_in(Client(), "alice@acme.test", PASSWORD, forwarded_for=OWNER))
        # when: the 24-hour window has passed (and the lock with it)
        traveller.shift(timedelta(hours=23))
        # then: a failure starts a fresh count, and the owner signs in
        assert NOT_RIGHT in text(sign_in(Client(), "alice@acme.test", WRONG, forwarded_for="192.0.2.78"))
        assert SignInAccountThrottle.objects.get(email="alice@acme.test").failures == 1
        assert sign_in(Client(), "alice@acme.test", PASSWORD, forwarded_for=OWNER).status_code == 302


def test_a_password_changed_by_the_signed_in_owner_lifts_the_locks_too(alice: User) -> None:
    # given: the account locked by many addresses, and the owner still signed in on another device
    device = Client()
    device.force_login(alice)
    assert LOCKED_60 in fail_from_many_addresses("alice@acme.test", addresses=10)
    # when: the owner changes the password there
    changed = device.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    # then
    assert changed.status_code == 302
    assert not SignInAccountThrottle.objects.filter(email="alice@acme.test").exists()
    assert sign_in(Client(), "alice@acme.test", NEW_PASSWORD, forwarded_for=OWNER).status_code == 302


# --- nothing said about who has an account ---------------------------------------------------------------------


def _page_without(response, email: str) -> str:
    """The page with what differs by nature removed: the CSRF token and the email typed back into the form."""
    page = re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF", text(response))
    return page.replace(email, "EMAIL")


def test_the_messages_are_the_same_whether_or_not_the_account_exists(alice: User) -> None:
    pages: dict[str, list[str]] = {}
    for email in ["alice@acme.test", "ghost@acme.test"]:
        # when: a wrong password, the address's lock, and the account's lock, for each email
        wrong = sign_in(Client(), email, WRONG, forwarded_for="192.0.2.1")
        for _ in range(4):
            pair_locked = sign_in(Client(), email, WRONG, forwarded_for="192.0.2.1")
        fail_from_many_addresses(email, addresses=9)
        account_locked = sign_in(Client(), email, PASSWORD, forwarded_for=OWNER)
        pages[email] = [_page_without(response, email) for response in (wrong, pair_locked, account_locked)]
        assert NOT_RIGHT in pages[email][0]
        assert LOCKED_15 in pages[email][1]
        assert LOCKED_60 in pages[email][2]
    # then: the known and the unknown email get the very same pages
    assert pages["alice@acme.test"] == pages["ghost@acme.test"]
