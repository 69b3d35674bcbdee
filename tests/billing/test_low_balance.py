"""Below 40% of its period's total a balance is low: owners and admins get one email per crossing, and a banner
on every page of the app until it is back above."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from relasi.billing.models import BalanceKind, EntryType
from relasi.billing.services import Change, balance_change, balance_period_open, balance_top_up
from relasi.core.models import AuditLog

pytestmark = pytest.mark.django_db

WA = BalanceKind.WHATSAPP


def _debit(workspace, amount: int) -> None:
    balance_change(workspace=workspace, actor=None, kind=WA, changes=[Change(EntryType.USAGE, -amount)])


def test_one_email_per_crossing_to_owners_and_admins(acme, django_capture_on_commit_callbacks) -> None:
    # given a period of IDR 1,000,000
    with django_capture_on_commit_callbacks(execute=True):
        balance_period_open(
            workspace=acme, actor=None, kind=WA, starts_on=date(2026, 12, 1), allowance=1_000_000, reset=True
        )
        # when usage leaves 45%, then 39%, then 20%
        _debit(acme, 550_000)
        sent_above = len(mail.outbox)
        _debit(acme, 60_000)
        _debit(acme, 190_000)
    # then one email, to the owner and the admin (not the agent), when it fell below 40%
    assert sent_above == 0
    [email] = mail.outbox
    assert sorted(email.to) == ["alice@acme.test", "dave@acme.test"]
    assert "WhatsApp balance is running low" in email.subject
    assert "below 40% of this period: Rp 390,000 left of Rp 1,000,000" in email.body
    assert "/app/acme/usage/" in email.body
    assert AuditLog.objects.filter(workspace=acme, action="balance.low").count() == 1
    # when a top-up brings it back above 40% and usage takes it below again
    with django_capture_on_commit_callbacks(execute=True):
        balance_top_up(workspace=acme, actor=None, kind=WA, amount=400_000, reference="pay-1")
        _debit(acme, 300_000)
    # then a second email: a new crossing (300,000 left of a period total of 1,400,000)
    assert len(mail.outbox) == 2
    assert "Rp 300,000 left of Rp 1,400,000" in mail.outbox[1].body


def test_a_rolled_back_crossing_sends_nothing(acme, django_capture_on_commit_callbacks) -> None:
    balance_period_open(
        workspace=acme, actor=None, kind=WA, starts_on=date(2026, 12, 1), allowance=100, reset=True
    )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        from django.db import transaction

        with transaction.atomic():
            _debit(acme, 90)
            raise RuntimeError("the event's transaction fails")
    assert mail.outbox == []


def _banner_on(client, slug: str = "acme") -> str:
    return client.get(reverse("customers:list", kwargs={"workspace_slug": slug})).content.decode()


def test_the_banner_shows_while_low_to_those_who_may_see_billing(acme, alice, bob, client_for) -> None:
    balance_period_open(
        workspace=acme, actor=None, kind=WA, starts_on=date(2026, 12, 1), allowance=1_000, reset=True
    )
    # above 40%: no banner
    assert 'data-testid="low-balance-whatsapp"' not in _banner_on(client_for(alice))
    # below: the owner sees it on any page, with the way to the usage page; the agent does not
    _debit(acme, 700)
    html = _banner_on(client_for(alice))
    assert 'data-testid="low-balance-whatsapp"' in html
    assert "The WhatsApp balance is below 40% of this period: Rp 300 left." in html
    assert 'href="/app/acme/usage/"' in html
    assert 'data-testid="low-balance' not in _banner_on(client_for(bob))
    # in Indonesian too
    indonesian = (
        client_for(alice)
        .get(reverse("customers:list", kwargs={"workspace_slug": "acme"}), HTTP_ACCEPT_LANGUAGE="id")
        .content.decode()
    )
    assert "Saldo WhatsApp di bawah 40% dari periode ini: Rp 300 tersisa." in indonesian
