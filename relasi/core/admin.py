"""The back-office: Django admin for platform staff, titled for Relasi, with throttled sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from relasi.core.models import AuditLog


class BackOffice(admin.AdminSite):
    """The staff sign-in form (throttled) is set by relasi.accounts when it loads: core knows no domain."""

    site_header = "Relasi back-office"
    site_title = "Relasi back-office"
    index_title = "Platform operations"


backoffice = BackOffice(name="admin")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditLog, site=backoffice)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_label", "workspace"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "action", "target_id", "target_label"]
    date_hierarchy = "created_at"
    list_select_related = ["workspace"]
