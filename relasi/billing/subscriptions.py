"""Subscriptions and their payments, and the monthly periods they open on the balances."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.billing.models import (
    BalanceKind,
    Package,
    PaymentStatus,
    Subscription,
    SubscriptionPayment,
    SubscriptionStatus,
)
from relasi.billing.services import AMOUNT_LIMIT, REFERENCE_MAX, balance_period_open
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.inputs import text_checked
from relasi.tenancy.models import Workspace


def subscription_periods_open(*, workspace: Workspace, subscription: Subscription, month: date) -> None:
    """Open the month's period of both balances with the package's allowances (once per month)."""
    package = subscription.package
    for kind, allowance in (
        (BalanceKind.MUV, package.muv_allowance),
        (BalanceKind.WHATSAPP, package.whatsapp_allowance),
    ):
        balance_period_open(
            workspace=workspace,
            actor=Actor(system="billing"),
            kind=kind,
            starts_on=month,
            allowance=allowance,
            reset=package.resets_monthly,
        )


def subscription_start(
    *, workspace: Workspace, actor: Actor | User | None, package_id: int, starts_on: date
) -> Subscription:
    """Subscribe the workspace to a package on sale; the month's period opens at once. A workspace has one active
    subscription: starting another while one is active is refused (cancel it first)."""
    who = actor_of(actor)
    package = Package.objects.filter(pk=package_id, active=True).first()
    if package is None:
        raise ValidationError({"package": [_("No such package on sale.")]})
    with transaction.atomic():
        try:
            with transaction.atomic():
                subscription = Subscription.objects.for_workspace(workspace).create(
                    package=package, term=package.term, started_on=starts_on
                )
        except IntegrityError:
            raise ValidationError(
                {"package": [_("This workspace already has an active subscription: cancel it first.")]}
            ) from None
        audit_record(
            workspace=workspace,
            actor=who,
            action="subscription.started",
            target=subscription,
            changes={"package": package.name, "term": package.term, "started_on": starts_on.isoformat()},
        )
        subscription_periods_open(
            workspace=workspace, subscription=subscription, month=starts_on.replace(day=1)
        )
    return subscription


def subscription_cancel(
    *, workspace: Workspace, actor: Actor | User | None, subscription_id: int
) -> Subscription:
    who = actor_of(actor)
    with transaction.atomic():
        subscription = Subscription.objects.locked_or_404(workspace, subscription_id)
        if subscription.status != SubscriptionStatus.ACTIVE:
            return subscription
        subscription.status = SubscriptionStatus.CANCELLED
        subscription.save(update_fields=["status"])
        audit_record(
            workspace=workspace,
            actor=who,
            action="subscription.cancelled",
            target=subscription,
            changes={"status": [SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED]},
        )
    return subscription


def subscription_payment_record(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    subscription_id: int,
    amount: int,
    paid_at: datetime,
    covers_from: date,
    covers_to: date,
    reference: str,
) -> tuple[SubscriptionPayment, bool]:
    """Record a payment once per reference; the payment, and whether this call recorded it."""
    errors: dict[str, list[str]] = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= AMOUNT_LIMIT:
        errors["amount"] = [_("A payment is a positive whole number of rupiah.")]
    if covers_to < covers_from:
        errors["covers_to"] = [_("The period covered ends before it starts.")]
    try:
        key = text_checked(reference, max_length=REFERENCE_MAX)
    except ValidationError as error:
        errors["reference"] = list(error.messages)
        key = ""
    if not key and "reference" not in errors:
        errors["reference"] = [_("Name the payment's reference.")]
    if errors:
        raise ValidationError(errors)
    who = actor_of(actor)
    payments = SubscriptionPayment.objects.for_workspace(workspace)
    with transaction.atomic():
        try:
            subscription = Subscription.objects.locked_or_404(workspace, subscription_id)
        except Http404:
            raise ValidationError({"subscription": [_("No such subscription in this workspace.")]}) from None
        try:
            with transaction.atomic():
                payment = payments.create(
                    subscription=subscription,
                    amount=amount,
                    paid_at=paid_at,
                    covers_from=covers_from,
                    covers_to=covers_to,
                    status=PaymentStatus.PAID,
                    reference=key,
                )
        except IntegrityError:
            return payments.get(reference=key), False
        audit_record(
            workspace=workspace,
            actor=who,
            action="subscription.payment",
            target=subscription,
            changes={
                "amount": amount,
                "reference": key,
                "covers": [covers_from.isoformat(), covers_to.isoformat()],
            },
        )
    return payment, True
