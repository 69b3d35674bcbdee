"""API endpoints for customer imports: upload (and start), status with progress, resume, error file."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from relasi.core.api_fields import NO_NUL
from relasi.core.api_responses import (
    COMMON_ERRORS,
    IDEMPOTENCY_DESCRIPTION,
    IdempotencyKeyHeader,
    idempotent_response,
    json_rendered,
)
from relasi.core.problems import ApiProblem, ProblemOut
from relasi.core.validation import validation_error_fields
from relasi.customers import imports
from relasi.customers.models import CustomerImport, DuplicateMode
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["customer imports"])

CREATE_ENDPOINT = "POST /customer-imports"


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


FORM_FIELDS = {"file", "mapping", "duplicate_mode"}


def _refuse_unknown_fields(request: WorkspaceRequest) -> None:
    # As with JSON bodies, a field the endpoint does not read is a mistake to report, not to ignore.
    unknown = sorted((set(request.POST) | set(request.FILES)) - FORM_FIELDS)
    if unknown:
        raise ApiProblem.validation({name: ["Not a field of this form."] for name in unknown})


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
        raise ApiProblem.validation(
            {"mapping": ['A JSON object of column index → field key, e.g. {"0": "full_name"}.']}
        )
    return mapping


# `mapping` is a JSON object in its own part of the form, `duplicate_mode` one of two words; ninja alone would
# describe any text (relasi.api.openapi).
UPLOAD_FORM_EXTRA: dict[str, Any] = {
    "x-relasi-form-fields": {
        "mapping": {
            "type": "object",
            "description": "Column index → field key; without it, the suggested mapping.",
            "propertyNames": {"pattern": "^[0-9]{1,4}$"},
            "additionalProperties": {"type": "string", "maxLength": 200, "pattern": NO_NUL},
        },
        "duplicate_mode": {
            "type": "string",
            "enum": list(DuplicateMode.values),
            "default": DuplicateMode.SKIP.value,
        },
    },
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {"additionalProperties": False},
                "encoding": {"mapping": {"contentType": "application/json"}},
            }
        }
    },
}

REFUSALS = {
    imports.TOO_LARGE: (413, "import-too-large", "The file is over the import limits."),
    imports.TOO_MANY_ROWS: (413, "import-too-large", "The file is over the import limits."),
    imports.UNSUPPORTED: (415, "unsupported-file-type", "The file is not a CSV or XLSX file."),
}


def _file_digest(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _upload_and_start(
    request: WorkspaceRequest, file: UploadedFile, mapping: dict[str, str] | None, duplicate_mode: str
) -> tuple[int, Any]:
    try:
        customer_import = imports.customer_import_upload_and_start(
            workspace=request.workspace,
            actor=request.actor,
            file=file,
            original_name=file.name or "",
            mapping=mapping,
            duplicate_mode=duplicate_mode,
        )
    except ValidationError as error:
        code = imports.refusal_code(error)
        if code in REFUSALS:
            status, slug, title = REFUSALS[code]
            errors = validation_error_fields(error)
            raise ApiProblem(
                status=status, slug=slug, title=title, detail=" ".join(errors.get("file", [])), errors=errors
            ) from None
        raise
    customer_import.refresh_from_db()
    return 202, json_rendered(_out(customer_import))


@router.post(
    "/customer-imports",
    response={
        202: CustomerImportOut,
        403: ProblemOut,
        409: ProblemOut,
        413: ProblemOut,
        415: ProblemOut,
        422: ProblemOut,
        **COMMON_ERRORS,
    },
    summary="Upload a CSV or XLSX file of customers and start importing it",
    openapi_extra=UPLOAD_FORM_EXTRA,
    description=(
        "Multipart form: `file` (CSV in UTF-8, comma or semicolon separated, or XLSX), optional `mapping` "
        '(JSON object of column index → field key, e.g. `{"0": "full_name", "1": "phone"}`; `""` ignores a '
        'column, `"new:<Label>"` creates a text property) and `duplicate_mode` (`skip` or `update`). Without '
        "a mapping the suggested one is used. The import runs in the background: poll the returned import. "
        + IDEMPOTENCY_DESCRIPTION
        + " (The body is the file's content with the mapping and the duplicate mode.)"
    ),
)
def customer_import_create(
    request: WorkspaceRequest,
    file: File[UploadedFile],
    mapping: Form[str | None] = None,
    duplicate_mode: Form[str] = DuplicateMode.SKIP.value,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    _refuse_unknown_fields(request)
    parsed = _parse_mapping(mapping)
    return idempotent_response(
        workspace=request.workspace,
        actor=request.actor,
        endpoint=CREATE_ENDPOINT,
        key=idempotency_key,
        # Hashing the file only when a key asks for it: a plain upload pays nothing.
        payload=lambda: {"file": _file_digest(file), "mapping": parsed, "duplicate_mode": duplicate_mode},
        work=lambda: _upload_and_start(request, file, parsed, duplicate_mode),
    )


@router.get(
    "/customer-imports/{int:import_id}",
    response={200: CustomerImportOut, 404: ProblemOut, **COMMON_ERRORS},
    summary="An import's status, counts and progress",
)
def customer_import_read(request: WorkspaceRequest, import_id: int) -> dict[str, Any]:
    return _out(imports.customer_import_get(workspace=request.workspace, import_id=import_id))


@router.post(
    "/customer-imports/{int:import_id}/resume",
    response={202: CustomerImportOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, **COMMON_ERRORS},
    summary="Continue an import that stopped before the end",
    description=(
        "For an import whose status is `failed`, or one queued or running without progress for "
        "CUSTOMER_IMPORT_STALLED_SECONDS. It is queued again and continues after the last batch it "
        "committed: rows already counted are neither written twice nor lost."
    ),
)
def customer_import_resume(request: WorkspaceRequest, import_id: int) -> Status[dict[str, Any]]:
    try:
        customer_import = imports.customer_import_resume(
            workspace=request.workspace, actor=request.actor, import_id=import_id
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
    "/customer-imports/{int:import_id}/errors.csv",
    response={403: ProblemOut, 404: ProblemOut, **COMMON_ERRORS},
    url_name="customer_import_errors",
    summary="The failed rows of an import as CSV (the file's columns plus `error`)",
    description="For the user or API key that ran the import, and for owners and admins.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The failed rows: the original header, an `error` column, one line per failed row.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def customer_import_errors(request: WorkspaceRequest, import_id: int) -> FileResponse:
    customer_import = imports.customer_import_get(workspace=request.workspace, import_id=import_id)
    return FileResponse(
        imports.customer_import_error_file_open(
            workspace=request.workspace, actor=request.actor, customer_import=customer_import
        ),
        as_attachment=True,
        filename=imports.customer_import_error_filename(customer_import),
        content_type="text/csv; charset=utf-8",
    )
