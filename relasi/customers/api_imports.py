"""API endpoints for customer imports: upload (and start), status with progress, error file."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from relasi.api.errors import ApiProblem, django_validation_errors
from relasi.api.schemas import ProblemOut
from relasi.customers import imports
from relasi.customers.models import CustomerImport, DuplicateMode

router = Router(tags=["customer imports"])


class CustomerImportOut(Schema):
    id: int
    status: str
    original_name: str
    file_format: str
    headers: list[str]
    mapping: dict[str, str]
    duplicate_mode: str
    total_rows: int
    processed_rows: int
    progress_percent: int
    created_count: int
    updated_count: int
    skipped_count: int
    failed_count: int
    failure_reason: str
    error_file_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _out(customer_import: CustomerImport) -> dict[str, Any]:
    return {
        "id": customer_import.pk,
        "status": customer_import.status,
        "original_name": customer_import.original_name,
        "file_format": customer_import.file_format,
        "headers": customer_import.headers,
        "mapping": customer_import.mapping,
        "duplicate_mode": customer_import.duplicate_mode,
        "total_rows": customer_import.total_rows,
        "processed_rows": customer_import.processed_rows,
        "progress_percent": imports.customer_import_progress_percent(customer_import),
        "created_count": customer_import.created_count,
        "updated_count": customer_import.updated_count,
        "skipped_count": customer_import.skipped_count,
        "failed_count": customer_import.failed_count,
        "failure_reason": customer_import.failure_reason,
        "error_file_url": reverse("api-v1:customer_import_errors", kwargs={"import_id": customer_import.pk})
        if customer_import.error_file
        else None,
        "created_at": customer_import.created_at,
        "started_at": customer_import.started_at,
        "finished_at": customer_import.finished_at,
    }


def _parse_mapping(raw: str | None) -> dict[str, str] | None:
    if raw is None or not raw.strip():
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        raise ApiProblem(
            status=422,
            slug="validation",
            title="The request is not valid.",
            detail="One or more fields are not valid; see errors.",
            errors={"mapping": ['A JSON object of column index → field key, e.g. {"0": "full_name"}.']},
        )
    return mapping


REFUSALS = {
    imports.TOO_LARGE: (413, "import-too-large", "The file is over the import limits."),
    imports.TOO_MANY_ROWS: (413, "import-too-large", "The file is over the import limits."),
    imports.UNSUPPORTED: (415, "unsupported-file-type", "The file is not a CSV or XLSX file."),
}


@router.post(
    "/customer-imports",
    response={202: CustomerImportOut, 401: ProblemOut, 413: ProblemOut, 415: ProblemOut, 422: ProblemOut},
    summary="Upload a CSV or XLSX file of customers and start importing it",
    description=(
        "Multipart form: `file` (CSV in UTF-8, comma or semicolon separated, or XLSX), optional `mapping` "
        '(JSON object of column index → field key, e.g. `{"0": "full_name", "1": "phone"}`; `""` ignores a '
        'column, `"new:<Label>"` creates a text property) and `duplicate_mode` (`skip` or `update`). Without '
        "a mapping the suggested one is used. The import runs in the background: poll the returned import."
    ),
)
def customer_import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    mapping: Form[str | None] = None,
    duplicate_mode: Form[str] = DuplicateMode.SKIP.value,
) -> Status[dict[str, Any]]:
    parsed = _parse_mapping(mapping)
    try:
        customer_import = imports.customer_import_upload_and_start(
            workspace=request.workspace,  # type: ignore[attr-defined]
            actor=request.actor,  # type: ignore[attr-defined]
            file=file,
            original_name=file.name or "",
            mapping=parsed,
            duplicate_mode=duplicate_mode,
        )
    except ValidationError as error:
        code = imports.refusal_code(error)
        if code in REFUSALS:
            status, slug, title = REFUSALS[code]
            raise ApiProblem(
                status=status,
                slug=slug,
                title=title,
                detail=" ".join(django_validation_errors(error).get("file", [])),
                errors=django_validation_errors(error),
            ) from None
        raise
    customer_import.refresh_from_db()
    return Status(202, _out(customer_import))


@router.get(
    "/customer-imports/{import_id}",
    response={200: CustomerImportOut, 401: ProblemOut, 404: ProblemOut},
    summary="An import's status, counts and progress",
)
def customer_import_read(request: HttpRequest, import_id: int) -> dict[str, Any]:
    customer_import = imports.customer_import_get(
        workspace=request.workspace,  # type: ignore[attr-defined]
        import_id=import_id,
    )
    return _out(customer_import)


@router.post(
    "/customer-imports/{import_id}/resume",
    response={202: CustomerImportOut, 401: ProblemOut, 404: ProblemOut, 409: ProblemOut},
    summary="Continue an import that stopped before the end",
    description=(
        "Only for an import whose status is `failed`. It is queued again and continues after the last batch it "
        "committed: rows already counted are neither written twice nor lost."
    ),
)
def customer_import_resume(request: HttpRequest, import_id: int) -> Status[dict[str, Any]]:
    try:
        customer_import = imports.customer_import_resume(
            workspace=request.workspace,  # type: ignore[attr-defined]
            actor=request.actor,  # type: ignore[attr-defined]
            import_id=import_id,
        )
    except ValidationError as error:
        raise ApiProblem(
            status=409,
            slug="import-not-stopped",
            title="This import cannot be continued.",
            detail=" ".join(error.messages),
        ) from None
    customer_import.refresh_from_db()
    return Status(202, _out(customer_import))


@router.get(
    "/customer-imports/{import_id}/errors.csv",
    response={401: ProblemOut, 404: ProblemOut},
    url_name="customer_import_errors",
    summary="The failed rows of an import as CSV (the file's columns plus `error`)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The failed rows: the original header, an `error` column, one line per failed row.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def customer_import_errors(request: HttpRequest, import_id: int) -> FileResponse:
    customer_import = imports.customer_import_get(
        workspace=request.workspace,  # type: ignore[attr-defined]
        import_id=import_id,
    )
    if not customer_import.error_file:
        raise Http404
    return FileResponse(
        customer_import.error_file.open("rb"),
        as_attachment=True,
        filename=imports.customer_import_error_filename(customer_import),
        content_type="text/csv; charset=utf-8",
    )
