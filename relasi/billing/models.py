"""Prepaid usage: each workspace's two balances and their append-only ledger.

A balance is a running total kept beside its ledger so that a page reads one row; the ledger is the record. The
balance row changes only under `SELECT … FOR UPDATE`, in the transaction that writes its entry, and equals the sum
of its entries at every commit (`relasi billing check` proves it). Entries are never changed (the model refuses,
and a database trigger refuses an UPDATE from anywhere) nor deleted, but with their workspace: a correction is a
new entry.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relasi.core.scoping import WorkspaceOwned, workspace_key


class BalanceKind(models.TextChoices):
    # Monthly unique visitors: a count of people.
    MUV = "muv", _("Unique visitors")
    # WhatsApp: rupiah; may go below zero (outstanding), settled first by the next top-up.
    WHATSAPP = "whatsapp", _("WhatsApp balance")


class EntryType(models.TextChoices):
    ALLOWANCE = "allowance", _("Monthly allowance")
    TOP_UP = "top_up", _("Top-up")
    USAGE = "usage", _("Usage")
    RESET = "reset", _("Period reset")
    SETTLEMENT = "settlement", _("Outstanding settled")
    ADJUSTMENT = "adjustment", _("Adjustment by staff")


# Below this share of its period's total (allowance and top-ups), a balance is low: a banner and one email.
LOW_BALANCE_PERCENT = 40


class Balance(WorkspaceOwned):
    workspace = workspace_key()
    kind = models.CharField(_("balance"), max_length=10, choices=BalanceKind.choices)
    # Visitors or rupiah; the sum of the balance's ledger entries.
    amount = models.BigIntegerField(_("remaining"), default=0)
    # The current period: its first day, and what it brought (allowance and top-ups), the base of the low-balance
    # notice.
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_total = models.BigIntegerField(_("period total"), default=0)
    # The low-balance notice of the current crossing below LOW_BALANCE_PERCENT was sent; cleared when the balance
    # is back above it, so that the next crossing notifies again.
    low_notice_sent = models.BooleanField(default=False)
    updated_at = models.DateTimeField(_("last change"), default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        constraints = [models.UniqueConstraint(fields=["workspace", "kind"], name="balance_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount}"

    @property
    def is_low(self) -> bool:
        return self.period_total > 0 and self.amount * 100 < LOW_BALANCE_PERCENT * self.period_total


class LedgerImmutable(RuntimeError):
    pass


class LedgerEntry(WorkspaceOwned):
    workspace = workspace_key()
    kind = models.CharField(_("balance"), max_length=10, choices=BalanceKind.choices)
    entry_type = models.CharField(_("type"), max_length=12, choices=EntryType.choices)
    # Signed: a credit is positive, a debit negative.
    amount = models.BigIntegerField(_("amount"))
    balance_after = models.BigIntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # What the entry applies once (a message id, a payment, a period): a second entry with it is refused by the
    # unique constraint, so a repeated event never counts twice. Empty for entries that need no such key.
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    # Who, by id and as shown then: no constraint, since a deleted user must not change an entry (its actor_label
    # keeps who it was).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["workspace", "kind", "-id"], name="ledger_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "reference"],
                condition=~Q(reference=""),
                name="ledger_reference_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_entry_type_display()} {self.amount:+d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise LedgerImmutable("Ledger entries are never changed: write a correcting entry.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise LedgerImmutable("Ledger entries are never deleted: write a correcting entry.")


class MonthlyVisitor(WorkspaceOwned):
    """A customer counted as a unique visitor of a month (the workspace's calendar month): the record that makes
    the count exactly once, however many inbound messages the customer sends. The customer's id, not a foreign
    key: a visit stays counted when the customer is deleted or merged."""

    workspace = workspace_key()
    month = models.DateField(_("month"))
    customer_id = models.BigIntegerField(_("customer"))
    first_at = models.DateTimeField(_("first message"))

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("unique visitor")
        verbose_name_plural = _("unique visitors")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "customer_id"], name="monthly_visitor_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.month:%Y-%m}"


def _not_backdated(row: models.Model, effective_from: Any) -> None:
    """A new price starts today or later: one starting earlier would change what days already gone cost."""
    if row._state.adding and effective_from is not None and effective_from < timezone.localdate():
        raise ValidationError({"effective_from": [_("A new price starts today or later.")]})


class PricingCategory(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    UTILITY = "utility", _("Utility")
    AUTHENTICATION = "authentication", _("Authentication")
    SERVICE = "service", _("Service")


class WhatsAppPrice(models.Model):
    """What a billable WhatsApp message of a category costs, from a date on (platform staff keep the table)."""

    category = models.CharField(_("category"), max_length=20, choices=PricingCategory.choices)
    price = models.PositiveIntegerField(_("price (rupiah)"))
    effective_from = models.DateField(_("effective from"))

    class Meta:
        verbose_name = _("WhatsApp price")
        verbose_name_plural = _("WhatsApp prices")
        ordering = ["category", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["category", "effective_from"], name="whatsapp_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.price} from {self.effective_from}"

    def clean(self) -> None:
        _not_backdated(self, self.effective_from)


class Term(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly, paid in full")
    INSTALMENTS = "instalments", _("Yearly, in instalments")


class Package(models.Model):
    """What the platform sells (staff keep the list): a price per term and what each month brings."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    price = models.BigIntegerField(_("price (rupiah)"))
    term = models.CharField(_("term"), max_length=12, choices=Term.choices, default=Term.MONTHLY)
    muv_allowance = models.PositiveIntegerField(_("unique visitors per month"))
    whatsapp_allowance = models.PositiveBigIntegerField(_("WhatsApp balance per month (rupiah)"))
    # At each period's start what remains of the last one lapses (an outstanding stays owed); else it carries over.
    resets_monthly = models.BooleanField(_("what remains lapses each month"), default=True)
    active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["price", "name"]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(WorkspaceOwned):
    workspace = workspace_key()
    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="+", verbose_name=_("package")
    )
    term = models.CharField(_("term"), max_length=12, choices=Term.choices)
    started_on = models.DateField(_("started"))
    status = models.CharField(
        _("status"), max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [models.Index(fields=["workspace", "-started_on"], name="subscription_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(status="active"), name="subscription_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.package} ({self.get_status_display()})"


class PaymentStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")


class SubscriptionPayment(WorkspaceOwned):
    """A payment of a subscription: first-class, since the partner program computes commissions from them."""

    workspace = workspace_key()
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="payments", verbose_name=_("subscription")
    )
    amount = models.BigIntegerField(_("amount (rupiah)"))
    paid_at = models.DateTimeField(_("paid"))
    covers_from = models.DateField(_("covers from"))
    covers_to = models.DateField(_("covers to"))
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PAID
    )
    # The payment's own id (a gateway's, a bank transfer's): recorded once.
    reference = models.CharField(_("reference"), max_length=200)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("subscription payment")
        verbose_name_plural = _("subscription payments")
        indexes = [models.Index(fields=["workspace", "-paid_at"], name="subscription_payment_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "reference"], name="subscription_payment_reference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_at:%Y-%m-%d}"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")


class TopUpOrder(WorkspaceOwned):
    """A top-up as asked and priced (relasi.billing.pricing): the lines, VAT and total it was quoted, kept as
    quoted; confirming it makes its invoice."""

    workspace = workspace_key()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    muv_visitors = models.PositiveIntegerField(_("unique visitors"), default=0)
    whatsapp_amount = models.PositiveBigIntegerField(_("WhatsApp balance (rupiah)"), default=0)
    # [{"kind": "muv" | "whatsapp", "quantity": …, "price": …}], as quoted.
    lines = models.JSONField(default=list)
    notices = models.JSONField(default=list)
    subtotal = models.BigIntegerField()
    vat_rate = models.CharField(max_length=10)
    vat_base = models.BigIntegerField()
    vat = models.BigIntegerField()
    total = models.BigIntegerField()
    billing_email = models.EmailField(_("billing email"), max_length=254)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("top-up order")
        verbose_name_plural = _("top-up orders")
        indexes = [models.Index(fields=["workspace", "-created_at"], name="topup_order_recent")]

    def __str__(self) -> str:
        return f"Order {self.pk}: {self.total}"


class InvoiceStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    IN_REVIEW = "in_review", _("In review by support")


class PaymentMethod(models.TextChoices):
    VIRTUAL_ACCOUNT = "virtual_account", _("Virtual account")
    CARD = "card", _("Credit card")
    OVO = "ovo", _("OVO")


class Bank(models.TextChoices):
    # The banks whose virtual accounts the gateways offer.
    BCA = "bca", "BCA"
    BNI = "bni", "BNI"
    BRI = "bri", "BRI"
    MANDIRI = "mandiri", "Mandiri"
    PERMATA = "permata", "Permata"
    BSI = "bsi", "BSI"
    CIMB = "cimb", "CIMB Niaga"


class Invoice(WorkspaceOwned):
    workspace = workspace_key()
    order = models.ForeignKey(TopUpOrder, on_delete=models.PROTECT, related_name="+")
    # INV/2026/12/000042: the year and month it was made, and its id.
    number = models.CharField(_("number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.AWAITING_PAYMENT
    )
    # The order's total (VAT included); a card payment adds `card_fee` to what is paid.
    amount = models.BigIntegerField(_("amount (rupiah)"))
    due_at = models.DateTimeField(_("pay by"))
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The payment method chosen last, and the checkout the gateway made for it (a new method, a new checkout).
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, blank=True
    )
    bank = models.CharField(_("bank"), max_length=10, choices=Bank.choices, blank=True)
    card_fee = models.BigIntegerField(_("card fee (rupiah)"), default=0)
    gateway = models.CharField(_("gateway"), max_length=20, blank=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=200, blank=True)
    payment_url = models.CharField(_("payment page"), max_length=2000, blank=True)
    checkouts = models.PositiveIntegerField(default=0)
    paid_amount = models.BigIntegerField(_("amount paid (rupiah)"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="invoice_recent"),
            models.Index(
                fields=["workspace", "due_at"],
                condition=Q(status="awaiting_payment"),
                name="invoice_awaiting_due",
            ),
        ]
        # One invoice per order.
        constraints = [models.UniqueConstraint(fields=["workspace", "order"], name="invoice_order_unique")]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_due(self) -> int:
        """What the payer pays: the total, and the card fee when paying by card."""
        return self.amount + self.card_fee

    @property
    def is_expired(self) -> bool:
        """Expired, or still awaiting payment past its deadline (the job that marks it runs every minute)."""
        return self.status == InvoiceStatus.EXPIRED or (
            self.status == InvoiceStatus.AWAITING_PAYMENT and self.due_at < timezone.now()
        )

    @property
    def is_payable(self) -> bool:
        return self.status == InvoiceStatus.AWAITING_PAYMENT and not self.is_expired

    @property
    def shown_status(self) -> str:
        """The status as pages show it: Expired from the deadline on, before the job has marked it."""
        return str(InvoiceStatus.EXPIRED.label) if self.is_expired else self.get_status_display()


class PaymentEventStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    EXPIRED = "expired", _("Expired")
    FAILED = "failed", _("Failed")
    PENDING = "pending", _("Pending")


class PaymentOutcome(models.TextChoices):
    PAID = "paid", _("Invoice paid, balance credited")
    EXPIRED = "expired", _("Invoice expired")
    SUPPORT = "support", _("Sent to support")
    NO_CHANGE = "no_change", _("Nothing to change")


class PaymentEvent(WorkspaceOwned):
    """A gateway's callback as received and verified: recorded once per (gateway, event id), which is what makes a
    repeated callback change nothing, and kept with what applying it did."""

    workspace = workspace_key()
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    gateway = models.CharField(_("gateway"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=PaymentEventStatus.choices)
    amount = models.BigIntegerField(_("amount (rupiah)"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("at the gateway"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=PaymentOutcome.choices, blank=True)
    payload = models.JSONField(default=dict)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "gateway", "event_id"], name="payment_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_id}: {self.status}"


class SupportKind(models.TextChoices):
    WITHHOLDING_TAX = "withholding_tax", _("Top-up of a workspace withholding income tax")
    AMOUNT_MISMATCH = "amount_mismatch", _("Paid amount differs from the invoice")
    LATE_PAYMENT = "late_payment", _("Paid after the invoice expired")
    # A payment of an invoice already paid, cancelled or in review: the money must go back or be credited.
    SECOND_PAYMENT = "second_payment", _("Paid on an invoice already paid or closed")


class SupportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CREDITED = "credited", _("Credited")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


class SupportRequest(WorkspaceOwned):
    """An item of the back-office's billing support queue: a top-up the workspace cannot make itself, or money a
    gateway reported that self-service does not credit. Nothing is credited until staff decide."""

    workspace = workspace_key()
    kind = models.CharField(_("kind"), max_length=20, choices=SupportKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=SupportStatus.choices, default=SupportStatus.OPEN
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("invoice")
    )
    payment_event = models.ForeignKey(
        PaymentEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the workspace asks for (a withholding-tax top-up), or what the invoice's order was for.
    muv_visitors = models.PositiveIntegerField(_("unique visitors"), default=0)
    whatsapp_amount = models.PositiveBigIntegerField(_("WhatsApp balance (rupiah)"), default=0)
    # The money a gateway reported, recorded as it came.
    paid_amount = models.BigIntegerField(_("amount paid (rupiah)"), null=True, blank=True)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        indexes = [models.Index(fields=["workspace", "status", "-created_at"], name="support_request_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class PackagePrice(models.Model):
    """A package's price from a date on: a new price is a new row, so past payments keep theirs."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="prices")
    price = models.BigIntegerField(_("price (rupiah)"))
    effective_from = models.DateField(_("effective from"))

    class Meta:
        verbose_name = _("package price")
        verbose_name_plural = _("package prices")
        ordering = ["package", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["package", "effective_from"], name="package_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.package}: {self.price} from {self.effective_from}"

    def clean(self) -> None:
        _not_backdated(self, self.effective_from)
