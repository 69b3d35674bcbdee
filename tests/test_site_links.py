"""Links in emails start with RELASI_SITE_URL whatever host a request came to, and `relasi check --deploy` warns
when that address is the development default (or not HTTPS, or not an allowed host)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.core.checks import Error, Warning
from django.urls import reverse

from relasi.core.checks import site_url_check, site_url_deploy_check
from relasi.tenancy.models import Membership

ROOT = Path(__file__).resolve().parent.parent
SITE = "https://crm.toko.test"
LINKS = re.compile(r"https?://[^\s\"<>]+")


@pytest.fixture
def public_site(settings) -> None:
    # The site's address ends with a slash, as operators often write it; the request comes to another host.
    settings.RELASI_SITE_URL = f"{SITE}/"
    settings.ALLOWED_HOSTS = ["crm.toko.test", "internal.toko.lan"]


def _links(message: mail.EmailMultiAlternatives) -> set[str]:
    html = message.alternatives[0][0]
    assert isinstance(html, str)
    return set(LINKS.findall(message.body)) | set(LINKS.findall(html))


def test_a_password_reset_link_uses_the_site_url_not_the_requests_host(
    public_site, alice, client, django_capture_on_commit_callbacks
) -> None:
    # when alice asks for a reset through the internal host name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:password_reset"), {"email": "alice@acme.test"}, HTTP_HOST="internal.toko.lan"
        )
    # then the email's link is on the public address, once, without a doubled slash
    assert response.status_code == 302
    [message] = mail.outbox
    [link] = _links(message)
    assert re.fullmatch(rf"{SITE}/accounts/password/reset/[\w-]+/[\w-]+/", link), link


def test_invitation_links_use_the_site_url_not_the_requests_host(
    public_site, acme, alice, charlie, client_for, django_capture_on_commit_callbacks
) -> None:
    owner = client_for(alice)
    # when the owner invites a new person, then resends, through the internal host name
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            reverse("web:settings_members", kwargs={"workspace_slug": "acme"}),
            {"email": "dina@acme.test", "full_name": "Dina", "role": "agent"},
            HTTP_HOST="internal.toko.lan",
        )
    membership = Membership.objects.for_workspace(acme).get(user__email="dina@acme.test")
    Membership.objects.for_workspace(acme).filter(pk=membership.pk).update(invitation_sent_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            reverse(
                "web:settings_member_invitation_resend",
                kwargs={"workspace_slug": "acme", "membership_id": membership.pk},
            ),
            HTTP_HOST="internal.toko.lan",
        )
    # and invites charlie, who already has an account (a plain link to Relasi)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            reverse("web:settings_members", kwargs={"workspace_slug": "acme"}),
            {"email": "charlie@globex.test", "role": "agent"},
            HTTP_HOST="internal.toko.lan",
        )
    # then every link in every email is on the public address
    assert len(mail.outbox) == 3
    invited, resent, existing = (_links(message) for message in mail.outbox)
    for links in (invited, resent):
        [link] = links
        assert re.fullmatch(rf"{SITE}/accounts/password/reset/[\w-]+/[\w-]+/", link), link
    assert existing == {f"{SITE}/"}


@pytest.mark.parametrize(
    ("site_url", "allowed_hosts", "ids"),
    [
        ("http://127.0.0.1:8000", ["127.0.0.1"], ["relasi.W001"]),
        ("http://localhost:8000/", ["relasi.example.com"], ["relasi.W001"]),
        ("http://relasi.example.com", ["relasi.example.com"], ["relasi.W002"]),
        ("https://relasi.example.com", ["other.example.com"], ["relasi.W003"]),
        ("https://relasi.example.com", [".example.com"], []),
        ("https://Relasi.Example.com:8443/", ["relasi.example.com"], []),
    ],
)
def test_the_deploy_check_warns_about_a_site_url_no_one_else_can_open(
    settings, site_url: str, allowed_hosts: list[str], ids: list[str]
) -> None:
    settings.RELASI_SITE_URL = site_url
    settings.ALLOWED_HOSTS = allowed_hosts
    messages = site_url_deploy_check()
    assert [message.id for message in messages] == ids
    assert all(isinstance(message, Warning) for message in messages)
    assert site_url_check() == []


@pytest.mark.parametrize("site_url", ["relasi.example.com", "ftp://relasi.example.com", "https://", ""])
def test_a_site_url_that_is_not_an_address_is_an_error(settings, site_url: str) -> None:
    settings.RELASI_SITE_URL = site_url
    assert [(type(message), message.id) for message in site_url_check()] == [(Error, "relasi.E001")]


def test_relasi_check_deploy_says_it_when_the_site_url_is_not_set(tmp_path: Path) -> None:
    # given production settings without RELASI_SITE_URL
    env = {
        key: value
        for key, value in os.environ.items()
        # the browser tests allow sync ORM calls in async code, which the deploy check rightly refuses
        if key
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "DEBUG",
            "RELASI_SITE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "PAYMENT_GATEWAY",
        )
    }
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 30 + uuid.uuid4().hex + "y" * 20,
            "ALLOWED_HOSTS": "relasi.example.com",
            "RELASI_VAR_DIR": str(tmp_path),
            # a real gateway, so that the sandbox's own warning (relasi.W004) is not among these
            "PAYMENT_GATEWAY": "midtrans",
            "MIDTRANS_SERVER_KEY": "Mid-server-" + uuid.uuid4().hex,
        }
    )
    # when the operator runs the deploy check
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it names the setting and what to do
    assert result.returncode == 0, result.stderr
    assert (
        "(relasi.W001) RELASI_SITE_URL is 'http://127.0.0.1:8000', so the links in invitation and password-reset "
        "emails point at this machine and will not open for anyone else."
    ) in result.stderr
    assert "HINT: Set RELASI_SITE_URL to the public address, e.g. https://relasi.example.com" in result.stderr
    # and with it set, the deploy check has nothing more to say
    env["RELASI_SITE_URL"] = "https://relasi.example.com"
    clean = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert clean.returncode == 0, clean.stderr
    assert "System check identified no issues (2 silenced)." in clean.stdout
