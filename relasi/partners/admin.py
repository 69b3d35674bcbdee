from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from relasi.accounts.models import User
from relasi.core.admin import backoffice
from relasi.partners.leads import lead_stage_move
from relasi.partners.models import ChangeRequest, Lead, LeadStage, Partner, Program
from relasi.partners.profile_changes import change_request_decide
from relasi.partners.services import partner_review

DOCUMENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


def _staff_of(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _each(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    rows: QuerySet[Any],
    act: Callable[[Any], object],
) -> int:
    """Apply a service to each selected row; a row it refuses is named in an error message, the others go on.
    How many it applied to."""
    done = 0
    for row in rows:
        try:
            act(row)
        except (ValidationError, PermissionDenied) as error:
            reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            model_admin.message_user(request, f"{row}: {reason}", messages.ERROR)
        else:
            done += 1
    return done


@admin.register(Partner, site=backoffice)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["code", "person", "kind", "company_name", "review_status", "created_at"]
    list_filter = ["review_status", "kind"]
    search_fields = ["code", "user__email", "user__full_name", "company_name", "identity_number"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["identity_document_link", "review_status", "terms_accepted_at"]
    exclude = ["identity_document"]
    actions = ["approve"]

    # Partner.user has no translated name of its own (see the issue 9 report): the column gets one here.
    @admin.display(description=_("user"), ordering="user__email")
    def person(self, partner: Partner) -> str:
        return str(partner.user)

    @admin.display(description=_("identity document"))
    def identity_document_link(self, partner: Partner) -> str:
        if not partner.identity_document:
            return "—"
        url = reverse("admin:partners_partner_document", args=[partner.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open the document"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.document_view)
        return [
            path("<int:partner_id>/document/", view, name="partners_partner_document"),
            *super().get_urls(),
        ]

    def document_view(self, request: HttpRequest, partner_id: int) -> FileResponse:
        """The identity document, for staff only, from private storage (never a public URL)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        partner = get_object_or_404(Partner, pk=partner_id)
        if not partner.identity_document:
            raise Http404
        response = FileResponse(
            partner.identity_document.open("rb"),
            content_type=DOCUMENT_TYPES.get(partner.identity_document_kind, "application/octet-stream"),
        )
        response["Content-Disposition"] = "inline"
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description=_("Approve the identity of the selected partners"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        staff = _staff_of(request)
        done = _each(
            self,
            request,
            queryset,
            lambda row: partner_review(partner_id=row.pk, staff=staff, approve=True, reason=""),
        )
        if done:
            self.message_user(request, _("Approved."), messages.SUCCESS)


@admin.register(Lead, site=backoffice)
class LeadAdmin(admin.ModelAdmin):
    """The lead pipeline: staff move leads New → In process → Won or Lost (each move audited)."""

    list_display = ["created_at", "company_name", "pic_name", "partner", "referred_by", "stage", "source"]
    list_filter = ["stage", "source", "product"]
    search_fields = ["company_name", "pic_name", "email", "phone", "partner__code", "referred_by__code"]
    list_select_related = ["partner__user", "referred_by__user"]
    readonly_fields = [field.name for field in Lead._meta.fields]
    actions = ["move_in_process", "move_won", "move_lost"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _move(self, request: HttpRequest, queryset: QuerySet[Lead], stage: str) -> None:
        staff = _staff_of(request)
        moved = _each(
            self, request, queryset, lambda row: lead_stage_move(lead_id=row.pk, staff=staff, stage=stage)
        )
        if moved:
            self.message_user(request, _("%(count)d lead(s) moved.") % {"count": moved}, messages.SUCCESS)

    @admin.action(description=_("Move to In process"))
    def move_in_process(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._move(request, queryset, LeadStage.IN_PROCESS)

    @admin.action(description=_("Move to Won"))
    def move_won(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._move(request, queryset, LeadStage.WON)

    @admin.action(description=_("Move to Lost"))
    def move_lost(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._move(request, queryset, LeadStage.LOST)


@admin.register(Program, site=backoffice)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "reward", "rate_percent", "paid_months", "active"]
    list_filter = ["product", "reward", "active"]


@admin.register(ChangeRequest, site=backoffice)
class ChangeRequestAdmin(admin.ModelAdmin):
    """Partners' requests to change a checked detail: approving applies it (audited)."""

    list_display = ["created_at", "partner", "field", "old_value", "new_value", "status"]
    list_filter = ["status", "field"]
    search_fields = ["partner__code", "partner__user__email", "new_value"]
    list_select_related = ["partner__user"]
    readonly_fields = [field.name for field in ChangeRequest._meta.fields]
    actions = ["approve_changes", "reject_changes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: QuerySet[ChangeRequest], approve: bool) -> None:
        staff = _staff_of(request)
        _each(
            self,
            request,
            queryset,
            lambda row: change_request_decide(request_id=row.pk, staff=staff, approve=approve),
        )

    @admin.action(description=_("Approve the selected changes"))
    def approve_changes(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected changes"))
    def reject_changes(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        self._decide(request, queryset, approve=False)
