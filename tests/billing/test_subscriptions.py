"""Subscriptions and their payments: one active per workspace, the month's period opened with the package's
allowances (at once, then at each workspace's own month start), payments recorded once; the Subscription page."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from relasi.billing.models import BalanceKind, Package, Subscription, SubscriptionPayment
from relasi.billing.periods import periods_open_due
from relasi.billing.selectors import balances_of, ledger_entries
from relasi.billing.subscriptions import subscription_cancel, subscription_payment_record, subscription_start
from relasi.core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def growth(db) -> Package:
    return Package.objects.create(
        name="Growth", price=1_500_000, muv_allowance=5_000, whatsapp_allowance=1_000_000, resets_monthly=True
    )


def test_a_subscription_opens_the_months_period_with_its_allowances(acme, alice, growth) -> None:
    subscription = subscription_start(
        workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 11, 17)
    )
    balances = balances_of(workspace=acme)
    assert (balances["muv"].amount, balances["muv"].period_start) == (5_000, date(2026, 11, 1))
    assert (balances["whatsapp"].amount, balances["whatsapp"].period_total) == (1_000_000, 1_000_000)
    assert AuditLog.objects.get(action="subscription.started").changes == {
        "package": "Growth",
        "term": "monthly",
        "started_on": "2026-11-17",
    }
    assert subscription.term == "monthly"


def test_one_active_subscription_per_workspace(acme, alice, growth) -> None:
    first = subscription_start(workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 11, 1))
    with pytest.raises(ValidationError, match="already has an active subscription"):
        subscription_start(workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 12, 1))
    assert Subscription.objects.for_workspace(acme).count() == 1
    subscription_cancel(workspace=acme, actor=alice, subscription_id=first.pk)
    subscription_start(workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 12, 1))
    assert Subscription.objects.for_workspace(acme).filter(status="active").count() == 1


def test_a_package_off_sale_cannot_be_subscribed(acme, alice, growth) -> None:
    growth.active = False
    growth.save()
    with pytest.raises(ValidationError, match="No such package on sale"):
        subscription_start(workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 11, 1))
    assert Subscription.objects.for_workspace(acme).count() == 0


def test_a_payment_is_recorded_once_and_bad_ones_are_refused(acme, globex, alice, growth) -> None:
    subscription = subscription_start(
        workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 11, 1)
    )
    paid = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    arguments = {
        "workspace": acme,
        "actor": alice,
        "subscription_id": subscription.pk,
        "amount": 1_500_000,
        "paid_at": paid,
        "covers_from": date(2026, 11, 1),
        "covers_to": date(2026, 11, 30),
        "reference": "inv-2026-11",
    }
    payment, recorded = subscription_payment_record(**arguments)
    again, recorded_again = subscription_payment_record(**arguments)
    assert (recorded, recorded_again, again.pk) == (True, False, payment.pk)
    for wrong in ({"amount": 0}, {"amount": 10**40}, {"reference": ""}, {"covers_to": date(2026, 10, 1)}):
        with pytest.raises(ValidationError):
            subscription_payment_record(
                **{**arguments, **wrong, "reference": wrong.get("reference", "other")}
            )
    # another workspace cannot name acme's subscription
    with pytest.raises(ValidationError, match="No such subscription"):
        subscription_payment_record(**{**arguments, "workspace": globex, "reference": "x"})
    assert SubscriptionPayment.objects.for_workspace(acme).count() == 1


def test_each_workspace_opens_its_month_at_its_own_midnight(acme, globex, alice, charlie, growth) -> None:
    # given acme in Jakarta and globex in Jayapura, both subscribed in November
    globex.time_zone = "Asia/Jayapura"
    globex.save(update_fields=["time_zone"])
    for workspace, actor in ((acme, alice), (globex, charlie)):
        subscription_start(
            workspace=workspace, actor=actor, package_id=growth.pk, starts_on=date(2026, 11, 1)
        )
    # when the job runs at 16:30 UTC on 30 November (23:30 in Jakarta, 01:30 on 1 December in Jayapura), twice
    moment = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    assert periods_open_due(now=moment) == 2
    periods_open_due(now=moment)
    # then only globex is in December's period, once
    assert balances_of(workspace=acme)["muv"].period_start == date(2026, 11, 1)
    assert balances_of(workspace=globex)["muv"].period_start == date(2026, 12, 1)
    assert ledger_entries(workspace=globex, kind=BalanceKind.MUV).filter(entry_type="allowance").count() == 2


def _url() -> str:
    return reverse("billing:subscription", kwargs={"workspace_slug": "acme"})


def test_the_subscription_page_for_owners_and_admins(
    acme, alice, dave, bob, charlie, growth, client_for
) -> None:
    # given no subscription yet
    assert "no subscription yet" in client_for(alice).get(_url()).content.decode()
    # when acme subscribes and pays
    subscription = subscription_start(
        workspace=acme, actor=alice, package_id=growth.pk, starts_on=date(2026, 11, 1)
    )
    subscription_payment_record(
        workspace=acme,
        actor=alice,
        subscription_id=subscription.pk,
        amount=1_500_000,
        paid_at=datetime(2026, 11, 2, 3, 0, tzinfo=UTC),
        covers_from=date(2026, 11, 1),
        covers_to=date(2026, 11, 30),
        reference="inv-2026-11",
    )
    # then owners and admins see the package, what each month brings, and the payment
    for member in (alice, dave):
        html = client_for(member).get(_url()).content.decode()
        assert "Growth" in html and "5,000 unique visitors and Rp 1,000,000 of WhatsApp balance" in html
        assert "Rp 1,500,000" in html and "inv-2026-11" in html
    indonesian = client_for(alice).get(_url(), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "5.000 pengunjung unik dan Rp 1.000.000 saldo WhatsApp" in indonesian
    # and an agent is refused, an outsider finds nothing
    assert client_for(bob).get(_url()).status_code == 403
    assert client_for(charlie).get(_url()).status_code == 404


def test_the_subscribe_command(acme, growth) -> None:
    out = io.StringIO()
    call_command(
        "billing", "subscribe", workspace="acme", package="Growth", starts_on="2026-11-05", stdout=out
    )
    assert out.getvalue().strip() == "acme subscribes to Growth from 2026-11-05."
    for wrong, message in (
        ({"workspace": "nope", "package": "Growth"}, "No workspace"),
        ({"workspace": "acme", "package": "Gold"}, "No package"),
        ({"workspace": "acme", "package": "Growth", "starts_on": "2026-13-40"}, "YYYY-MM-DD"),
        ({"workspace": "acme", "package": "Growth"}, "already has an active subscription"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("billing", "subscribe", stdout=io.StringIO(), **wrong)
    assert Subscription.objects.for_workspace(acme).count() == 1
