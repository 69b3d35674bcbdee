"""Merging two customers by hand: the page that shows them side by side, and the undo. Every member may merge (as
every member may edit customers); the rules are in relasi.customers.merge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.core.ids import ids_parse
from relasi.customers import merge, selectors
from relasi.customers.models import Customer
from relasi.customers.selectors import Column, customer_cell
from relasi.tenancy.access import workspace_page
from relasi.tenancy.requests import WorkspacePageRequest


@dataclass(frozen=True)
class FieldRow:
    field: str
    label: str
    survivor_value: Any
    merged_value: Any
    choice: str

    @property
    def differs(self) -> bool:
        return self.survivor_value != self.merged_value


def _pair(request: WorkspacePageRequest) -> tuple[Customer, Customer]:
    source = request.POST if request.method == "POST" else request.GET
    ids = ids_parse([source.get("survivor", "")[:20], source.get("merged", "")[:20]])
    if len(ids) != 2 or ids[0] == ids[1]:
        raise Http404
    survivor = selectors.customer_get(workspace=request.workspace, customer_id=ids[0])
    merged = selectors.customer_get(workspace=request.workspace, customer_id=ids[1])
    return survivor, merged


def _rows(survivor: Customer, merged: Customer, chosen: dict[str, str]) -> list[FieldRow]:
    defaults = {**merge.merge_choices_default(survivor=survivor, merged=merged), **chosen}
    rows = []
    for field in merge.MERGE_FIELDS:
        label = str(getattr(Customer._meta.get_field(field), "verbose_name", field))
        column = Column(key=field, label=label)
        rows.append(
            FieldRow(
                field=field,
                label=label[:1].upper() + label[1:],
                survivor_value=customer_cell(survivor, column),
                merged_value=customer_cell(merged, column),
                choice=defaults[field],
            )
        )
    return rows


@workspace_page()
def customer_merge(request: WorkspacePageRequest) -> HttpResponseBase:
    """GET ?survivor=ID&merged=ID: the two side by side, a choice per field that differs; POST merges."""
    survivor, merged = _pair(request)
    chosen = {
        field: request.POST[f"field_{field}"]
        for field in merge.MERGE_FIELDS
        if request.method == "POST" and f"field_{field}" in request.POST
    }
    error = ""
    if request.method == "POST":
        try:
            record = merge.customers_merge(
                workspace=request.workspace,
                actor=request.actor,
                survivor_id=survivor.pk,
                merged_id=merged.pk,
                choices=chosen,
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(
                request,
                _("“%(merged)s” was merged into “%(survivor)s”. You can undo it for 30 days from this page.")
                % {"merged": merged.full_name, "survivor": survivor.full_name},
            )
            request.session["last_merge_id"] = record.pk
            return redirect(
                "customers:detail", workspace_slug=request.workspace.slug, customer_id=survivor.pk
            )
    return render(
        request,
        "customers/merge.html",
        {
            "section": "customers",
            "survivor": survivor,
            "merged": merged,
            "rows": _rows(survivor, merged, chosen),
            "error": error,
        },
        status=400 if error else 200,
    )


@require_POST
@workspace_page()
def customer_merge_undo(request: WorkspacePageRequest, merge_id: int) -> HttpResponse:
    try:
        record = merge.customer_merge_undo(
            workspace=request.workspace, actor=request.actor, merge_id=merge_id
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("customers:list", workspace_slug=request.workspace.slug)
    messages.success(request, _("The merge was undone: both customers are back."))
    return redirect("customers:detail", workspace_slug=request.workspace.slug, customer_id=record.merged_id)
