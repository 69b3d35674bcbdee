"""The back-office: Django admin for platform staff, titled for Relasi, with throttled sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from relasi.core.models import AuditLog


class BackOffice(admin.AdminSite):
    """The staff sign-in form (throttled) is set by relasi.accounts when it loads: core knows no domain."""

    site_header = _("Relasi back-office")
    site_title = _("Relasi back-office")
    index_title = _("Platform operations")


backoffice = BackOffice(name="admin")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WorkspaceColumn:
    """A "workspace" column for a model with a workspace: the foreign key carries no translated name of its own."""

    @admin.display(description=_("workspace"), ordering="workspace__name")
    def workspace_name(self, row: Any) -> str:
        return str(row.workspace) if row.workspace is not None else "—"


@admin.register(AuditLog, site=backoffice)
class AuditLogAdmin(WorkspaceColumn, ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_label", "workspace_name"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "action", "target_id", "target_label"]
    date_hierarchy = "created_at"
    list_select_related = ["workspace"]
    # The foreign keys carry no translated name of their own: shown through labelled columns instead.
    fields = [
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "changes",
        "workspace_name",
    ]
    readonly_fields = ["created_at", "workspace_name"]
