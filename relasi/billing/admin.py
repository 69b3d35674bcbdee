"""The back-office's view of balances and their ledger: read-only. A staff adjustment is a ledger entry written by
`services.balance_change` (with its reason), never an edit of a row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from relasi.billing.models import (
    Balance,
    Invoice,
    LedgerEntry,
    Package,
    Subscription,
    SubscriptionPayment,
    TopUpOrder,
    WhatsAppPrice,
)
from relasi.core.admin import ReadOnlyAdmin, WorkspaceColumn, backoffice


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
    list_display = ["number", "workspace_name", "amount", "status", "due_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "workspace__name", "workspace__slug"]
    list_select_related = ["workspace"]
    fields = ["number", "workspace_name", "amount", "status", "due_at", "created_at", "status_changed_at"]
    readonly_fields = ["workspace_name"]
