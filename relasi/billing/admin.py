"""The back-office's billing: balances and their ledger, packages and their prices, orders, invoices, the gateways'
callbacks, and the support queue.

Money is read-only here. A balance changes through a ledger entry written by a service, with its reason (a staff
adjustment is `services.balance_change`), never an edit of a row; a support request changes only through its
decision (relasi.billing.support), posted from the request's page to its own URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from relasi.accounts.models import User
from relasi.billing.models import (
    Balance,
    Invoice,
    LedgerEntry,
    Package,
    PackagePrice,
    PaymentEvent,
    Subscription,
    SubscriptionPayment,
    SupportRequest,
    SupportStatus,
    TopUpOrder,
    WhatsAppPrice,
)
from relasi.billing.support import (
    RESOLUTION_MAX,
    support_request_cancel,
    support_request_credit,
    support_request_refund,
)
from relasi.core.admin import ReadOnlyAdmin, WorkspaceColumn, backoffice

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EMPTY = "—"


def _pretty_json(value: Any) -> SafeString:
    # As received, indented and in key order, escaped by format_html: a payload is whatever a gateway sent.
    return format_html(
        '<pre class="billing-payload">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


def _change_link(site: admin.AdminSite, row: Any) -> str:
    opts = row._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk], current_app=site.name)


@admin.register(Balance, site=backoffice)
class BalanceAdmin(WorkspaceColumn, ReadOnlyAdmin):
    list_display = ["workspace_name", "kind", "amount", "period_start", "period_total", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["workspace__name", "workspace__slug"]
    list_select_related = ["workspace"]
    fields = ["workspace_name", "kind", "amount", "period_start", "period_total", "updated_at"]
    readonly_fields = ["workspace_name"]


@admin.register(LedgerEntry, site=backoffice)
class LedgerEntryAdmin(WorkspaceColumn, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "workspace_name",
        "kind",
        "entry_type",
        "amount",
        "balance_after",
        "reference",
    ]
    list_filter = ["kind", "entry_type"]
    search_fields = ["workspace__name", "workspace__slug", "reference", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["workspace"]
    fields = [
        "created_at",
        "workspace_name",
        "kind",
        "entry_type",
        "amount",
        "balance_after",
        "reason",
        "reference",
        "actor_label",
    ]
    readonly_fields = ["workspace_name"]


@admin.register(WhatsAppPrice, site=backoffice)
class WhatsAppPriceAdmin(admin.ModelAdmin):
    """The price table: a change of price is a new row from its date, so the old price stays for its days."""

    list_display = ["category", "price", "effective_from"]
    list_filter = ["category"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PackagePriceInline(admin.TabularInline):
    """A package's prices by date, kept like the WhatsApp prices: a new price is a new row from its date, and the
    rows before it stay as they were (a payment made then was made at that price)."""

    model = PackagePrice
    fields = ["price", "effective_from"]
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Without change permission the inline shows the saved rows read-only and still offers new ones.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Package, site=backoffice)
class PackageAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "price",
        "term",
        "muv_allowance",
        "whatsapp_allowance",
        "resets_monthly",
        "active",
    ]
    list_filter = ["term", "active"]
    inlines = [PackagePriceInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A package someone subscribed to stays (the subscription points at it); take it off sale instead.
        return False


class SubscriptionPaymentInline(admin.TabularInline):
    model = SubscriptionPayment
    fields = ["paid_at", "amount", "covers_from", "covers_to", "status", "reference"]
    readonly_fields = ["paid_at", "amount", "covers_from", "covers_to", "status", "reference"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription, site=backoffice)
class SubscriptionAdmin(WorkspaceColumn, ReadOnlyAdmin):
    list_display = ["workspace_name", "package", "term", "started_on", "status"]
    list_filter = ["status", "term"]
    search_fields = ["workspace__name", "workspace__slug"]
    list_select_related = ["workspace", "package"]
    fields = ["workspace_name", "package", "term", "started_on", "status"]
    readonly_fields = ["workspace_name"]
    inlines = [SubscriptionPaymentInline]


@admin.register(TopUpOrder, site=backoffice)
class TopUpOrderAdmin(WorkspaceColumn, ReadOnlyAdmin):
    list_display = ["created_at", "workspace_name", "total", "status", "billing_email"]
    list_filter = ["status"]
    search_fields = ["workspace__name", "workspace__slug", "billing_email"]
    list_select_related = ["workspace"]
    fields = [
        "created_at",
        "workspace_name",
        "lines",
        "notices",
        "subtotal",
        "vat_rate",
        "vat",
        "total",
        "status",
    ]
    readonly_fields = ["workspace_name"]


@admin.register(Invoice, site=backoffice)
class InvoiceAdmin(WorkspaceColumn, ReadOnlyAdmin):
    list_display = [
        "number",
        "workspace_name",
        "amount",
        "status",
        "payment_method",
        "paid_amount",
        "due_at",
        "created_at",
    ]
    list_filter = ["status", "payment_method", "gateway"]
    search_fields = ["number", "workspace__name", "workspace__slug"]
    list_select_related = ["workspace"]
    fields = [
        "number",
        "workspace_name",
        "amount",
        "card_fee",
        "amount_due",
        "status",
        "due_at",
        "created_at",
        "status_changed_at",
        "payment_method",
        "bank",
        "gateway",
        "gateway_reference",
        "paid_amount",
        "paid_at",
    ]
    readonly_fields = ["workspace_name", "amount_due"]

    @admin.display(description=_("amount due (rupiah)"))
    def amount_due(self, invoice: Invoice) -> int:
        return invoice.amount_due


@admin.register(PaymentEvent, site=backoffice)
class PaymentEventAdmin(WorkspaceColumn, ReadOnlyAdmin):
    """The gateways' callbacks as received, and what applying each one did (relasi.billing.payments)."""

    list_display = [
        "received_at",
        "workspace_name",
        "gateway",
        "event_id",
        "status",
        "amount",
        "outcome",
        "invoice_number",
    ]
    list_filter = ["gateway", "status", "outcome"]
    search_fields = ["event_id", "invoice__number", "workspace__name", "workspace__slug"]
    date_hierarchy = "received_at"
    list_select_related = ["workspace", "invoice"]
    fields = [
        "received_at",
        "occurred_at",
        "workspace_name",
        "invoice_number",
        "gateway",
        "event_id",
        "status",
        "amount",
        "outcome",
        "payload_pretty",
    ]
    readonly_fields = ["workspace_name", "invoice_number", "payload_pretty"]

    @admin.display(description=_("invoice"), ordering="invoice__number")
    def invoice_number(self, event: PaymentEvent) -> str:
        return event.invoice.number

    @admin.display(description=_("payload"))
    def payload_pretty(self, event: PaymentEvent) -> SafeString:
        return _pretty_json(event.payload)


@dataclass(frozen=True)
class Decision:
    label: StrOrPromise
    decide: Callable[..., SupportRequest]
    # The success message.
    done: StrOrPromise


# The decisions staff may take on an open request, by the value the form posts.
DECISIONS: dict[str, Decision] = {
    "credit": Decision(
        _("Credit"),
        support_request_credit,
        _("Credited: the top-up is on the workspace's balances, with the reason on each ledger entry."),
    ),
    "refund": Decision(
        _("Mark refunded"), support_request_refund, _("Marked refunded: nothing was credited.")
    ),
    "cancel": Decision(_("Cancel"), support_request_cancel, _("Cancelled: nothing was credited.")),
}


def _error_text(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(str(message) for message in error.messages)
    return str(error) or str(_("You may not decide support requests."))


@admin.register(SupportRequest, site=backoffice)
class SupportRequestAdmin(WorkspaceColumn, ReadOnlyAdmin):
    """The billing support queue. Rows are never edited: an open request's page posts one decision (credit, mark
    refunded, cancel, each with a reason) to `decide_view`, which leaves it to relasi.billing.support."""

    change_form_template = "admin/billing/supportrequest/change_form.html"
    list_display = [
        "created_at",
        "workspace_name",
        "kind",
        "status",
        "invoice_number",
        "muv_visitors",
        "whatsapp_amount",
        "paid_amount",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["workspace__name", "workspace__slug", "invoice__number"]
    list_select_related = ["workspace", "invoice"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "created_at",
                    "workspace_name",
                    "kind",
                    "status",
                    "asked_by",
                    "message",
                    "muv_visitors",
                    "whatsapp_amount",
                    "paid_amount",
                ]
            },
        ),
        (_("Invoice"), {"fields": ["invoice_summary"]}),
        (_("Payment"), {"fields": ["payment_summary", "payment_payload"]}),
    ]
    readonly_fields = [
        "workspace_name",
        "asked_by",
        "invoice_summary",
        "payment_summary",
        "payment_payload",
        "decided_by",
    ]

    def get_ordering(self, request: HttpRequest) -> list[str | Combinable]:
        # The queue: open requests first, the newest first within each group.
        open_first = Case(When(Q(status=SupportStatus.OPEN), then=Value(0)), default=Value(1))
        return [open_first.asc(), "-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupportRequest]:
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", "invoice", "payment_event", "requested_by", "resolved_by")
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.status != SupportStatus.OPEN:
            fieldsets.append((_("Decision"), {"fields": ["resolution", "decided_by", "resolved_at"]}))
        return fieldsets

    @admin.display(description=_("invoice"), ordering="invoice__number")
    def invoice_number(self, row: SupportRequest) -> str:
        return row.invoice.number if row.invoice is not None else EMPTY

    @admin.display(description=_("asked by"))
    def asked_by(self, row: SupportRequest) -> str:
        return _user_label(row.requested_by)

    @admin.display(description=_("decided by"))
    def decided_by(self, row: SupportRequest) -> str:
        return _user_label(row.resolved_by)

    @admin.display(description=_("invoice"))
    def invoice_summary(self, row: SupportRequest) -> str:
        invoice = row.invoice
        if invoice is None:
            return EMPTY
        return format_html(
            '<a href="{}">{}</a> · {} · {}: {} · {}: {} · {}: {}',
            _change_link(self.admin_site, invoice),
            invoice.number,
            invoice.get_status_display(),
            _("amount due"),
            invoice.amount_due,
            _("payment method"),
            invoice.get_payment_method_display() or EMPTY,
            _("pay by"),
            # The deadline as the workspace was told it: 23:59 in its own zone.
            timezone.localtime(invoice.due_at, row.workspace.zone).strftime("%Y-%m-%d %H:%M %Z"),
        )

    @admin.display(description=_("payment event"))
    def payment_summary(self, row: SupportRequest) -> str:
        event = row.payment_event
        if event is None:
            return EMPTY
        return format_html(
            '<a href="{}">{} {}</a> · {} · {}',
            _change_link(self.admin_site, event),
            event.gateway,
            event.event_id,
            event.get_status_display(),
            event.amount if event.amount is not None else EMPTY,
        )

    @admin.display(description=_("payload"))
    def payment_payload(self, row: SupportRequest) -> str:
        return _pretty_json(row.payment_event.payload) if row.payment_event is not None else EMPTY

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        decide = path(
            "<path:object_id>/decide/",
            # admin_view: staff only (others go to the sign-in page), never cached, CSRF-protected.
            self.admin_site.admin_view(require_POST(self.decide_view)),
            name=f"{opts.app_label}_{opts.model_name}_decide",
        )
        # Before the admin's own patterns, whose last one takes any "<id>/…" path for an object's page.
        return [decide, *super().get_urls()]

    def may_decide(self, request: HttpRequest) -> bool:
        # Deciding is the one change a request takes: it needs the model's change permission (every superuser has
        # it), although the rows themselves are never edited.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # The decision form, only on an open request's page and for staff who may decide.
        if obj is not None and obj.status == SupportStatus.OPEN and self.may_decide(request):
            context["decide_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_decide",
                args=[obj.pk],
                current_app=self.admin_site.name,
            )
            context["decisions"] = [(value, decision.label) for value, decision in DECISIONS.items()]
            context["reason_max"] = RESOLUTION_MAX
        return super().render_change_form(request, context, add, change, form_url, obj)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Apply the posted decision through its service; whatever it answers, back to the request's page with a
        message. A refused decision changes nothing (the service decides in one transaction)."""
        row = self.get_object(request, unquote(object_id))
        if row is None:
            raise Http404
        if not self.may_decide(request) or not isinstance(request.user, User):
            raise PermissionDenied
        decision = DECISIONS.get(request.POST.get("action", ""))
        if decision is None:
            self.message_user(request, _("Choose credit, mark refunded or cancel."), messages.ERROR)
        else:
            self._decide(request, request.user, row, decision)
        return HttpResponseRedirect(_change_link(self.admin_site, row))

    def _decide(self, request: HttpRequest, staff: User, row: SupportRequest, decision: Decision) -> None:
        try:
            decision.decide(request_id=row.pk, staff=staff, reason=request.POST.get("reason", ""))
        except (ValidationError, PermissionDenied) as error:
            self.message_user(request, _error_text(error), messages.ERROR)
            return
        self.message_user(request, decision.done, messages.SUCCESS)


def _user_label(user: User | None) -> str:
    if user is None:
        return EMPTY
    return f"{user} <{user.email}>" if user.full_name else user.email
