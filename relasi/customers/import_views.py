"""Import customers from a CSV or XLSX file: upload → column mapping → progress and result (htmx polling)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relasi.core.validation import validation_error_fields
from relasi.customers import imports
from relasi.customers.models import CustomerImport, DuplicateMode, ImportStatus
from relasi.tenancy.access import workspace_page
from relasi.tenancy.permissions import Permission
from relasi.tenancy.requests import WorkspacePageRequest

ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _limits() -> dict[str, str]:
    return {
        "max_rows": number_format(settings.CUSTOMER_IMPORT_MAX_ROWS, force_grouping=True),
        "max_megabytes": f"{settings.CUSTOMER_IMPORT_MAX_BYTES / (1024 * 1024):g}",
    }


@require_http_methods(["GET", "POST"])
@workspace_page(permission=Permission.IMPORT_CUSTOMERS)
def import_upload(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("Choose a CSV or XLSX file.")]
        else:
            try:
                customer_import = imports.customer_import_upload(
                    workspace=workspace, actor=request.actor, file=upload, original_name=upload.name or ""
                )
            except ValidationError as error:
                errors = [
                    message for messages in validation_error_fields(error).values() for message in messages
                ]
            else:
                return redirect(
                    "customers:import_mapping", workspace_slug=workspace.slug, import_id=customer_import.pk
                )
    return render(
        request,
        "customers/import_upload.html",
        {
            "section": "customers",
            "errors": errors,
            "accept": ACCEPT,
            "recent": imports.customer_imports_recent(workspace=workspace),
            **_limits(),
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_page(permission=Permission.IMPORT_CUSTOMERS)
def import_mapping(request: WorkspacePageRequest, import_id: int) -> HttpResponse:
    workspace = request.workspace
    customer_import = imports.customer_import_get(workspace=workspace, import_id=import_id)
    if customer_import.status != ImportStatus.UPLOADED:
        return redirect("customers:import_progress", workspace_slug=workspace.slug, import_id=import_id)
    headers = customer_import.headers
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        mapping = {str(index): request.POST.get(f"column_{index}", "") for index in range(len(headers))}
        duplicate_mode = request.POST.get("duplicate_mode", "")
        try:
            imports.customer_import_start(
                workspace=workspace,
                actor=request.actor,
                import_id=import_id,
                mapping=mapping,
                duplicate_mode=duplicate_mode,
            )
        except ValidationError as error:
            errors = validation_error_fields(error)
        else:
            return redirect("customers:import_progress", workspace_slug=workspace.slug, import_id=import_id)
    else:
        mapping = imports.customer_import_suggest_mapping(workspace=workspace, headers=headers)
        duplicate_mode = DuplicateMode.SKIP
    preview = imports.customer_import_preview(
        workspace=workspace, actor=request.actor, customer_import=customer_import
    )
    columns = [
        {
            "index": index,
            "name": f"column_{index}",
            "header": header,
            "samples": [row[index] for row in preview if row[index].strip()][:3],
            "selected": mapping.get(str(index), ""),
            "header_label": header or _("Column %(number)d") % {"number": index + 1},
            "errors": errors.get(f"mapping.{index}", []),
        }
        for index, header in enumerate(headers)
    ]
    return render(
        request,
        "customers/import_mapping.html",
        {
            "section": "customers",
            "customer_import": customer_import,
            "preview": preview,
            "columns": columns,
            "targets": imports.customer_import_targets(workspace=workspace),
            "duplicate_mode": duplicate_mode,
            "duplicate_modes": DuplicateMode.choices,
            "mapping_errors": errors.get("mapping", []) + errors.get("__all__", []),
            "duplicate_errors": errors.get("duplicate_mode", []),
        },
        status=400 if errors else 200,
    )


@require_GET
@workspace_page()
def import_progress(request: WorkspacePageRequest, import_id: int) -> HttpResponse:
    workspace = request.workspace
    customer_import = imports.customer_import_get(workspace=workspace, import_id=import_id)
    if customer_import.status == ImportStatus.UPLOADED:
        return redirect("customers:import_mapping", workspace_slug=workspace.slug, import_id=import_id)
    context = _progress_context(request, customer_import)
    if request.headers.get("HX-Request"):
        return render(request, "customers/import_progress_fragment.html", context)
    return render(request, "customers/import_progress.html", context)


@require_POST
@workspace_page(permission=Permission.IMPORT_CUSTOMERS)
def import_resume(request: WorkspacePageRequest, import_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        imports.customer_import_resume(workspace=workspace, actor=request.actor, import_id=import_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The import continues after the rows it had already saved."))
    return redirect("customers:import_progress", workspace_slug=workspace.slug, import_id=import_id)


def _progress_context(request: WorkspacePageRequest, customer_import: CustomerImport) -> dict[str, object]:
    finished = customer_import.status in imports.FINISHED
    failed_rows_readable = imports.customer_import_file_readable(
        workspace=request.workspace, actor=request.actor, customer_import=customer_import
    )
    return {
        "section": "customers",
        "customer_import": customer_import,
        "finished": finished,
        "completed": customer_import.status == ImportStatus.COMPLETED,
        "stalled": imports.customer_import_is_stalled(customer_import),
        "stalled_minutes": settings.CUSTOMER_IMPORT_STALLED_SECONDS // 60,
        "percent": imports.customer_import_progress_percent(customer_import),
        "failed_rows_readable": failed_rows_readable,
        "errors": imports.customer_import_errors(
            workspace=request.workspace, actor=request.actor, customer_import=customer_import
        )
        if finished and failed_rows_readable
        else [],
    }


@require_GET
@workspace_page()
def import_error_file(request: WorkspacePageRequest, import_id: int) -> Any:
    workspace = request.workspace
    customer_import = imports.customer_import_get(workspace=workspace, import_id=import_id)
    return FileResponse(
        imports.customer_import_error_file_open(
            workspace=workspace, actor=request.actor, customer_import=customer_import
        ),
        as_attachment=True,
        filename=imports.customer_import_error_filename(customer_import),
        content_type="text/csv; charset=utf-8",
    )
