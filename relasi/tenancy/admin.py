from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from relasi.core.admin import backoffice
from relasi.tenancy.models import ApiKey, Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["invitation_sent_at"]


@admin.register(Workspace, site=backoffice)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "withholds_income_tax", "created_at"]
    list_filter = ["withholds_income_tax", "time_zone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership, site=backoffice)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "pending", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__full_name", "workspace__name", "workspace__slug"]
    list_select_related = ["user", "workspace"]
    autocomplete_fields = ["user", "workspace"]
    readonly_fields = ["invitation_sent_at"]

    @admin.display(description=_("invitation pending"), boolean=True)
    def pending(self, membership: Membership) -> bool:
        return membership.is_pending


@admin.register(ApiKey, site=backoffice)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "workspace", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "workspace__slug"]
    readonly_fields = [
        "workspace",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    exclude = ["secret_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
