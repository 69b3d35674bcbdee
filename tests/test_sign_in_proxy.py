"""Sign-in behind a proxy (issue 8, defect 8): the client's own address from the trusted proxy's header, and a lock
per email and address that only the one who failed runs into. Every request goes through the sign-in pages, with the
proxy's address in REMOTE_ADDR and the forwarding header as nginx's `$proxy_add_x_forwarded_for` writes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from relasi.accounts.models import SignInThrottle, User
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"
OWNER = "198.51.100.20"
STRANGER = "203.0.113.7"
WRONG = "Wrong!Pass1"
LOCKED_15 = "Too many failed sign-ins. For your security, try again in 15 minutes."


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    # The numbers the tests speak of, whatever the environment sets.
    settings.SIGN_IN_FAILURE_LIMIT = 5
    settings.SIGN_IN_LOCKOUT = timedelta(minutes=15)
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
