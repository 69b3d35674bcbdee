"""The Properties menu, under /app/<workspace_slug>/customers/properties/.

Every member can read the list; only owners and admins change anything (`managers_only` gives others a 403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.accounts.models import User
from relasi.customers import selectors, services
from relasi.customers.models import Channel, PropertyDefinition
from relasi.customers.properties import KEY_PATTERN
from relasi.customers.property_forms import (
    PropertyEditForm,
    PropertyNewForm,
    add_service_errors,
    has_editable_options,
    property_label,
)
from relasi.tenancy.models import Workspace
from relasi.web.access import workspace_page

MAX_REORDER_KEYS = 500


def _workspace(request: HttpRequest) -> Workspace:
    workspace: Workspace = request.workspace  # type: ignore[attr-defined]
    return workspace


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _definition(workspace: Workspace, property_id: int) -> PropertyDefinition:
    for definition in selectors.property_definitions(workspace=workspace, include_archived=True):
        if definition.pk == property_id:
            return definition
    raise Http404


def _row(definition: PropertyDefinition) -> dict[str, Any]:
    return {"definition": definition, "label": property_label(definition)}


def _back_to_list(workspace: Workspace) -> HttpResponse:
    return redirect("customers:properties", workspace_slug=workspace.slug)


@workspace_page()
def property_list(request: HttpRequest) -> HttpResponse:
    definitions = selectors.property_definitions(workspace=_workspace(request), include_archived=True)
    return render(
        request,
        "customers/properties.html",
        {
            "section": "properties",
            "title": _("Properties"),
            "rows": [_row(d) for d in definitions if d.archived_at is None],
            "archived_rows": [_row(d) for d in definitions if d.archived_at is not None],
            "can_manage": request.membership.can_manage,  # type: ignore[attr-defined]
        },
    )


@workspace_page(managers_only=True)
def property_new(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    form = PropertyNewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = services.property_create(
                workspace=workspace,
                actor=_user(request),
                label=data["label"],
                key=data["key"],
                kind=data["kind"],
                options=data["options"],
                is_required=data["is_required"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The property “%(label)s” (%(key)s) was added.")
                % {"label": definition.label, "key": definition.key},
            )
            return _back_to_list(workspace)
    return render(
        request,
        "customers/property_new.html",
        {"section": "properties", "title": _("New property"), "form": form},
        status=400 if form.errors else 200,
    )


@workspace_page(managers_only=True)
def property_edit(request: HttpRequest, property_id: int) -> HttpResponse:
    workspace = _workspace(request)
    definition = _definition(workspace, property_id)
    if request.method == "POST" and request.POST.get("intent") == "visibility":
        return _set_visibility(request, workspace, definition)
    form = PropertyEditForm(request.POST if request.method == "POST" else None, definition=definition)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return _back_to_list(workspace)
        try:
            definition = services.property_update(
                workspace=workspace, actor=_user(request), property_id=definition.pk, data=changes
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The property “%(label)s” was saved.") % {"label": property_label(definition)}
            )
            return _back_to_list(workspace)
    return render(
        request,
        "customers/property_edit.html",
        {
            "section": "properties",
            "title": _("Edit property"),
            "form": form,
            "definition": definition,
            "label": property_label(definition),
            "options_editable": has_editable_options(definition),
            "channels": Channel.labels if definition.key == "source" else [],
        },
        status=400 if form.errors else 200,
    )


def _set_visibility(
    request: HttpRequest, workspace: Workspace, definition: PropertyDefinition
) -> HttpResponse:
    """The list's Shown toggle: with htmx the row is swapped in place; without it the list reloads."""
    definition = services.property_update(
        workspace=workspace,
        actor=_user(request),
        property_id=definition.pk,
        data={"is_visible": request.POST.get("is_visible") == "1"},
    )
    if request.headers.get("HX-Request"):
        return render(
            request,
            "customers/property_row.html",
            {"row": _row(definition), "can_manage": True},
        )
    if definition.is_visible:
        message = _("“%(label)s” is shown again.")
    else:
        message = _("“%(label)s” is hidden. Its values are kept.")
    messages.success(request, message % {"label": property_label(definition)})
    return _back_to_list(workspace)


@workspace_page(managers_only=True)
@require_POST
def property_archive(request: HttpRequest, property_id: int) -> HttpResponse:
    """Archive (`archived=1`, the default) or restore (`archived=0`) a custom property."""
    workspace = _workspace(request)
    archived = request.POST.get("archived", "1") != "0"
    try:
        definition = services.property_set_archived(
            workspace=workspace, actor=_user(request), property_id=property_id, archived=archived
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if archived:
            message = _("“%(label)s” was archived. Customers keep its values; restore it any time.")
        else:
            message = _("“%(label)s” was restored.")
        messages.success(request, message % {"label": definition.label})
    return _back_to_list(workspace)


@workspace_page(managers_only=True)
@require_POST
def property_reorder(request: HttpRequest) -> JsonResponse:
    """Save the order of the list after a drag: `keys` repeated, in the new order."""
    keys = list(dict.fromkeys(key.strip() for key in request.POST.getlist("keys")))
    if not keys or len(keys) > MAX_REORDER_KEYS or not all(KEY_PATTERN.match(key) for key in keys):
        return JsonResponse({"error": _("Send the property keys in their new order.")}, status=400)
    services.properties_reorder(workspace=_workspace(request), actor=_user(request), keys=keys)
    return JsonResponse({"order": keys, "message": _("The new order was saved.")})
