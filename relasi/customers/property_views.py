"""The Properties menu, under /app/<workspace_slug>/customers/properties/.

Every member can read the list; only owners and admins change anything (the property services refuse
anyone else, and the pages answer them 403 before rendering a form).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.core.validation import form_add_validation_errors
from relasi.customers import property_services, selectors
from relasi.customers.models import Channel, PropertyDefinition
from relasi.customers.properties import KEY_PATTERN
from relasi.customers.property_forms import PropertyEditForm, PropertyNewForm
from relasi.customers.selectors import property_label
from relasi.tenancy.access import workspace_page
from relasi.tenancy.models import Workspace
from relasi.tenancy.permissions import Permission
from relasi.tenancy.requests import WorkspacePageRequest

MAX_REORDER_KEYS = 500


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
def property_list(request: WorkspacePageRequest) -> HttpResponse:
    definitions = selectors.property_definitions(workspace=request.workspace, include_archived=True)
    return render(
        request,
        "customers/properties.html",
        {
            "section": "properties",
            "title": _("Properties"),
            "rows": [_row(d) for d in definitions if d.archived_at is None],
            "archived_rows": [_row(d) for d in definitions if d.archived_at is not None],
            "can_manage": request.may.manage_properties,
        },
    )


@workspace_page(permission=Permission.MANAGE_PROPERTIES)
def property_new(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    form = PropertyNewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = property_services.property_create(
                workspace=workspace,
                actor=request.actor,
                label=data["label"],
                key=data["key"],
                kind=data["kind"],
                options=data["options"],
                is_required=data["is_required"],
            )
        except ValidationError as error:
            form_add_validation_errors(form, error)
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


@workspace_page(permission=Permission.MANAGE_PROPERTIES)
def property_edit(request: WorkspacePageRequest, property_id: int) -> HttpResponse:
    workspace = request.workspace
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
            definition = property_services.property_update(
                workspace=workspace, actor=request.actor, property_id=definition.pk, data=changes
            )
        except ValidationError as error:
            form_add_validation_errors(form, error)
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
            "options_editable": definition.has_editable_options,
            "channels": Channel.labels if definition.key == "source" else [],
        },
        status=400 if form.errors else 200,
    )


def _set_visibility(
    request: WorkspacePageRequest, workspace: Workspace, definition: PropertyDefinition
) -> HttpResponse:
    """The list's Shown toggle: with htmx the row is swapped in place; without it the list reloads."""
    definition = property_services.property_update(
        workspace=workspace,
        actor=request.actor,
        property_id=definition.pk,
        data={"is_visible": request.POST.get("is_visible") == "1"},
    )
    if request.headers.get("HX-Request"):
        return render(
            request,
            "customers/property_row.html",
            {"row": _row(definition), "can_manage": request.may.manage_properties},
        )
    if definition.is_visible:
        message = _("“%(label)s” is shown again.")
    else:
        message = _("“%(label)s” is hidden. Its values are kept.")
    messages.success(request, message % {"label": property_label(definition)})
    return _back_to_list(workspace)


@workspace_page(permission=Permission.MANAGE_PROPERTIES)
@require_POST
def property_archive(request: WorkspacePageRequest, property_id: int) -> HttpResponse:
    """Archive (`archived=1`, the default) or restore (`archived=0`) a custom property."""
    workspace = request.workspace
    archived = request.POST.get("archived", "1") != "0"
    try:
        definition = property_services.property_set_archived(
            workspace=workspace, actor=request.actor, property_id=property_id, archived=archived
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


@workspace_page(permission=Permission.MANAGE_PROPERTIES)
@require_POST
def property_reorder(request: WorkspacePageRequest) -> JsonResponse:
    """Save the order of the list after a drag: `keys` repeated, in the new order."""
    keys = list(dict.fromkeys(key.strip() for key in request.POST.getlist("keys")))
    if not keys or len(keys) > MAX_REORDER_KEYS or not all(KEY_PATTERN.fullmatch(key) for key in keys):
        return JsonResponse({"error": _("Send the property keys in their new order.")}, status=400)
    property_services.properties_reorder(workspace=request.workspace, actor=request.actor, keys=keys)
    return JsonResponse({"order": keys, "message": _("The new order was saved.")})
