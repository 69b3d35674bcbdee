"""The "Possible duplicates" page: the pairs identity resolution flagged, and "Not a duplicate". Every member of the
workspace may see and dismiss them; anyone else gets a 404 from the door (`workspace_page`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.core.pagination import CURSOR_MAX_LENGTH, InvalidCursor
from relasi.customers import identity, identity_selectors
from relasi.tenancy.access import workspace_page
from relasi.tenancy.requests import WorkspacePageRequest


@workspace_page()
def duplicate_list(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    cursor = request.GET.get("cursor", "")[: CURSOR_MAX_LENGTH + 1] or None
    error = ""
    try:
        page = identity_selectors.possible_duplicate_page(workspace=workspace, cursor=cursor)
    except InvalidCursor:
        error = _("This page link is no longer valid. Start again from the first page.")
        page = identity_selectors.possible_duplicate_page(workspace=workspace, cursor=None)
    return render(
        request,
        "customers/duplicates.html",
        {
            "section": "customers",
            "page": page,
            "pairs": page.items,
            "total": identity_selectors.possible_duplicate_open_count(workspace=workspace),
            "cursor_error": error,
        },
        status=400 if error else 200,
    )


@require_POST
@workspace_page()
def duplicate_dismiss(request: WorkspacePageRequest, duplicate_id: int) -> HttpResponseBase:
    identity.possible_duplicate_dismiss(
        workspace=request.workspace, actor=request.actor, duplicate_id=duplicate_id
    )
    messages.success(request, _("Marked as not a duplicate."))
    return redirect("customers:duplicates", workspace_slug=request.workspace.slug)
