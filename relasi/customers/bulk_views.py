"""Bulk action pages: prepare from the list's selection, confirm with the exact count, follow the progress, undo.

POST bulk/ (from the list's selection bar) → the job's page bulk/<id>/: while a draft, the confirmation (the count
and, for an edit, the value); once confirmed, its progress and result, with Undo for a delete.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_POST

from relasi.core.ids import ids_parse
from relasi.core.inputs import number_style_for_language
from relasi.core.validation import StateConflict
from relasi.customers import filters as customer_filters
from relasi.customers.bulk import selectors as bulk_selectors
from relasi.customers.bulk import services as bulk_services
from relasi.customers.bulk.forms import BulkConfirmForm
from relasi.customers.bulk.models_bulk import BulkAction, BulkJob, BulkStatus
from relasi.customers.selectors import property_label
from relasi.tenancy.access import workspace_page
from relasi.tenancy.models import Workspace
from relasi.tenancy.requests import WorkspacePageRequest


def _list_url(workspace: Workspace, query: dict[str, Any] | None = None) -> str:
    url = reverse("customers:list", kwargs={"workspace_slug": workspace.slug})
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _job_url(workspace: Workspace, job: BulkJob) -> str:
    return reverse("customers:bulk_job", kwargs={"workspace_slug": workspace.slug, "job_id": job.pk})


def _messages_of(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@require_POST
@workspace_page()
def bulk_prepare(request: WorkspacePageRequest) -> HttpResponse:
    """Count the selection (ticked `ids`, or `all=1` with the list's filters) and show its confirmation."""
    workspace = request.workspace
    try:
        filters = customer_filters.customer_filters_parse(request.POST)
    except customer_filters.FilterError as error:
        messages.error(request, " ".join(error.errors.values()))
        return redirect(_list_url(workspace))
    back = _list_url(workspace, filters.as_query())
    action, _sep, property_key = request.POST.get("action", "")[:80].partition(":")
    every_matching = request.POST.get("all") == "1"
    try:
        job = bulk_services.bulk_job_prepare(
            workspace=workspace,
            actor=request.actor,
            action=action,
            filters=filters,
            ids=None
            if every_matching
            else ids_parse(request.POST.getlist("ids")[: bulk_selectors.BULK_MAX_TICKED]),
            property_key=property_key,
        )
    except (ValidationError, PermissionDenied) as refusal:
        messages.error(
            request, _messages_of(refusal) if isinstance(refusal, ValidationError) else str(refusal)
        )
        return redirect(back)
    return redirect(_job_url(workspace, job))


@workspace_page()
def bulk_job_page(request: WorkspacePageRequest, job_id: int) -> HttpResponse:
    """A draft's confirmation (POST confirms it), or a job's progress and result (the fragment for htmx)."""
    workspace = request.workspace
    job = bulk_selectors.bulk_job_get(workspace=workspace, actor=request.actor, job_id=job_id)
    if job.status != BulkStatus.DRAFT:
        return _progress(request, job)
    form = BulkConfirmForm(
        request.POST or None, workspace=workspace, job=job, clearable=_clearable(workspace, job)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                bulk_services.bulk_job_confirm(
                    workspace=workspace,
                    actor=request.actor,
                    job_id=job.pk,
                    value=form.cleaned_data.get("value"),
                    clear=bool(form.cleaned_data.get("clear")),
                    number_style=number_style_for_language(translation.get_language()),
                    expected_total=form.cleaned_data["expected_total"],
                )
            except PermissionDenied as refusal:
                messages.error(request, str(refusal))
                return redirect(_back(workspace, job))
            except ValidationError as error:
                form.add_error("value" if "value" in form.fields else None, _messages_of(error))
            else:
                return redirect(_job_url(workspace, job))
        status = 400
    return render(
        request,
        "customers/bulk_confirm.html",
        {
            "section": "customers",
            "job": job,
            "form": form,
            "property_label": _property_label(workspace, job),
            "back_url": _back(workspace, job),
            "retention_days": settings.CUSTOMER_DELETED_RETENTION_DAYS,
        },
        status=status,
    )


def _back(workspace: Workspace, job: BulkJob) -> str:
    query = job.selection.get("filters") if isinstance(job.selection, dict) else None
    if job.action == BulkAction.RESTORE and not query:
        query = {"deleted": "1"}
    return _list_url(workspace, query or None)


def _clearable(workspace: Workspace, job: BulkJob) -> bool:
    """Whether the confirmation offers "Clear …": not for a required property, which cannot be emptied."""
    if job.action != BulkAction.PROPERTY:
        return True
    definition = bulk_selectors.bulk_property_definition(workspace=workspace, key=job.property_key)
    return definition is not None and not definition.is_required


def _property_label(workspace: Workspace, job: BulkJob) -> str:
    if job.action != BulkAction.PROPERTY:
        return ""
    definition = bulk_selectors.bulk_property_definition(workspace=workspace, key=job.property_key)
    return property_label(definition) if definition is not None else job.property_key


def _progress(request: WorkspacePageRequest, job: BulkJob) -> HttpResponse:
    workspace = request.workspace
    context = {
        "section": "customers",
        "job": job,
        "property_label": _property_label(workspace, job),
        "undoable": bulk_selectors.bulk_job_undoable(job),
        "resumable": bulk_selectors.bulk_job_resumable(job),
        "stalled": bulk_selectors.bulk_job_is_stalled(job),
        "back_url": _back(workspace, job),
        "undo_of_url": _job_url(workspace, job.undo_of) if job.undo_of_id and job.undo_of else None,
    }
    if request.headers.get("HX-Request"):
        return render(request, "customers/_bulk_progress.html", context)
    return render(request, "customers/bulk_progress.html", context)


@require_POST
@workspace_page()
def bulk_job_undo(request: WorkspacePageRequest, job_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        undo = bulk_services.bulk_job_undo(workspace=workspace, actor=request.actor, job_id=job_id)
    except StateConflict as conflict:
        messages.error(request, _messages_of(conflict))
        return redirect("customers:bulk_job", workspace_slug=workspace.slug, job_id=job_id)
    return redirect(_job_url(workspace, undo))


@require_POST
@workspace_page()
def bulk_job_resume(request: WorkspacePageRequest, job_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        bulk_services.bulk_job_resume(workspace=workspace, actor=request.actor, job_id=job_id)
    except StateConflict as conflict:
        messages.error(request, _messages_of(conflict))
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
    return redirect("customers:bulk_job", workspace_slug=workspace.slug, job_id=job_id)
