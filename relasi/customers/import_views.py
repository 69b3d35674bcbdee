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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relasi.core.validation import validation_error_fields
from relasi.customers import imports
from relasi.customers.models import CustomerImport, DuplicateMode, ImportStatus, NumberFormat
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


# How the mapping page names each export it recognises.
EXPORT_NAMES = {
    "google": gettext_lazy("a Google Contacts export"),
    "outlook": gettext_lazy("an Outlook contacts export"),
    "hubspot": gettext_lazy("a HubSpot contacts export"),
    "whatsapp": gettext_lazy("a list of names and phone numbers (such as a WhatsApp Business customer list)"),
    "sheet": gettext_lazy("a sheet of contacts"),
}
PART_CHOICES = [
    ("1", gettext_lazy("Full name, first part")),
    ("2", gettext_lazy("Full name, middle part")),
    ("3", gettext_lazy("Full name, last part")),
    ("fallback", gettext_lazy("Full name, when the row has no name (e.g. the company)")),
]


def _select_value(value: str | dict[str, Any]) -> str:
    """A mapping value as the column's select names it: "full_name|2" for a part, "full_name|fallback"."""
    if isinstance(value, str):
        return value
    field = str(value.get("field", ""))
    if value.get("fallback"):
        return f"{field}|fallback"
    if value.get("part"):
        return f"{field}|{value['part']}"
    return field


def _posted_mapping(request: WorkspacePageRequest, width: int) -> dict[str, str | dict[str, Any]]:
    """The page's selects as a mapping: a column's field (and role), and where a cell's other values go."""
    mapping: dict[str, str | dict[str, Any]] = {}
    for index in range(width):
        chosen = request.POST.get(f"column_{index}", "")
        rest = request.POST.get(f"rest_{index}", "")
        field, _bar, role = chosen.partition("|")
        entry: dict[str, Any] = {"field": field}
        if role == "fallback":
            entry["fallback"] = True
        elif role.isdigit() and len(role) == 1:
            entry["part"] = int(role)
        if rest and field:
            entry["rest"] = rest
        mapping[str(index)] = entry if len(entry) > 1 else field
    return mapping


@require_http_methods(["GET", "POST"])
@workspace_page(permission=Permission.IMPORT_CUSTOMERS)
def import_mapping(request: WorkspacePageRequest, import_id: int) -> HttpResponse:
    workspace = request.workspace
    customer_import = imports.customer_import_get(workspace=workspace, import_id=import_id)
    if customer_import.status != ImportStatus.UPLOADED:
        return redirect("customers:import_progress", workspace_slug=workspace.slug, import_id=import_id)
    headers = customer_import.headers
    preview = imports.customer_import_preview(
        workspace=workspace, actor=request.actor, customer_import=customer_import
    )
    samples = imports.customer_import_samples(customer_import=customer_import)
    suggestion = imports.customer_import_suggest(
        workspace=workspace,
        headers=headers,
        samples=samples,
        may_add_properties=request.may.manage_properties,
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        mapping = _posted_mapping(request, len(headers))
        duplicate_mode = request.POST.get("duplicate_mode", "")
        number_format = request.POST.get("number_format", "")
        try:
            imports.customer_import_start(
                workspace=workspace,
                actor=request.actor,
                import_id=import_id,
                mapping=mapping,
                duplicate_mode=duplicate_mode,
                number_format=number_format or None,
            )
        except ValidationError as error:
            errors = validation_error_fields(error)
        else:
            return redirect("customers:import_progress", workspace_slug=workspace.slug, import_id=import_id)
    else:
        mapping = suggestion.mapping
        duplicate_mode = DuplicateMode.SKIP
        number_format = ""
    targets = imports.customer_import_targets(workspace=workspace)
    detected = imports.customer_import_number_format_suggest(
        workspace=workspace, headers=headers, mapping=suggestion.mapping, samples=samples
    )
    return render(
        request,
        "customers/import_mapping.html",
        {
            "section": "customers",
            "customer_import": customer_import,
            "preview": preview,
            "columns": _mapping_columns(headers, preview, samples, mapping, errors),
            "targets": targets,
            "part_choices": PART_CHOICES,
            "rest_targets": imports.customer_import_rest_targets(workspace=workspace),
            "export_name": EXPORT_NAMES.get(suggestion.export, ""),
            "duplicate_mode": duplicate_mode,
            "duplicate_modes": DuplicateMode.choices,
            "number_format": number_format,
            "number_formats": NumberFormat.choices,
            "number_format_detected": NumberFormat(detected).label,
            "mapping_errors": errors.get("mapping", []) + errors.get("__all__", []),
            "duplicate_errors": errors.get("duplicate_mode", []),
            "number_format_errors": errors.get("number_format", []),
        },
        status=400 if errors else 200,
    )


def _mapping_columns(
    headers: list[str],
    preview: list[list[str]],
    samples: list[list[str]],
    mapping: dict[str, str | dict[str, Any]],
    errors: dict[str, list[str]],
) -> list[dict[str, Any]]:
    columns = []
    for index, header in enumerate(headers):
        value = mapping.get(str(index), "")
        rest = value.get("rest", "") if isinstance(value, dict) else ""
        columns.append(
            {
                "index": index,
                "name": f"column_{index}",
                "header": header,
                "samples": [row[index] for row in preview if row[index].strip()][:3],
                "selected": _select_value(value),
                "header_label": header or _("Column %(number)d") % {"number": index + 1},
                "errors": errors.get(f"mapping.{index}", []),
                # Offered where a cell holds several values, or the suggestion keeps them.
                "multi_valued": bool(rest) or any(":::" in row[index] for row in samples if index < len(row)),
                "rest": rest,
                "other_values_label": _("Other values of “%(header)s”")
                % {"header": header or _("Column %(number)d") % {"number": index + 1}},
            }
        )
    return columns


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


@require_POST
@workspace_page(permission=Permission.IMPORT_CUSTOMERS)
def import_undo(request: WorkspacePageRequest, import_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        imports.customer_import_undo(workspace=workspace, actor=request.actor, import_id=import_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    # No message when it starts: the page's undo section says it is under way while it is, and a message would
    # stay above that section after the undo is done (until the next page).
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
        "undo_busy": customer_import.undo_status in imports.UNDO_BUSY,
        "undo_refusal": imports.customer_import_undo_refusal(customer_import),
        "undo_until": imports.customer_import_undo_until(customer_import),
        "undo_percent": imports.customer_import_undo_percent(customer_import),
        "stalled_minutes": settings.CUSTOMER_IMPORT_STALLED_SECONDS // 60,
        "percent": imports.customer_import_progress_percent(customer_import),
        "failed_rows_readable": failed_rows_readable,
        "has_failed_rows": imports.customer_import_has_failed_rows(customer_import),
        "errors": imports.customer_import_errors(
            workspace=request.workspace, actor=request.actor, customer_import=customer_import
        )
        if finished and failed_rows_readable
        else [],
        "duplicates": imports.customer_import_duplicates(
            workspace=request.workspace, customer_import=customer_import, limit=DUPLICATES_SHOWN
        )
        if finished and customer_import.skipped_count
        else [],
    }


DUPLICATES_SHOWN = 20
DUPLICATES_PAGE = 100


@require_GET
@workspace_page()
def import_duplicates(request: WorkspacePageRequest, import_id: int) -> HttpResponse:
    """The rows skipped as duplicates, a page at a time (`?after=<row>`), each with the customer it matched."""
    workspace = request.workspace
    customer_import = imports.customer_import_get(workspace=workspace, import_id=import_id)
    raw_after = request.GET.get("after", "")
    after = int(raw_after) if raw_after.isascii() and raw_after.isdigit() and len(raw_after) <= 9 else 0
    rows = imports.customer_import_duplicates(
        workspace=workspace, customer_import=customer_import, limit=DUPLICATES_PAGE + 1, after_line=after
    )
    page = rows[:DUPLICATES_PAGE]
    return render(
        request,
        "customers/import_duplicates.html",
        {
            "section": "customers",
            "customer_import": customer_import,
            "duplicates": page,
            "next_after": page[-1].line if len(rows) > DUPLICATES_PAGE else None,
            "first_page": not after,
        },
    )


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
