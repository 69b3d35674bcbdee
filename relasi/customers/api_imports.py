"""API endpoints for customer imports: upload (and start), status with progress, resume, error file, undo."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status
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
from relasi.customers.imports.mapping import PART_MAX
from relasi.customers.models import CustomerImport, DuplicateMode, NumberFormat
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["customer imports"])

CREATE_ENDPOINT = "POST /customer-imports"
NUMBER_FORMAT_DESCRIPTION = (
    "How the file writes numbers, for number properties: `id` (1.500.000,5), `en` (1,500,000.5) or `plain` "
    "(1500000.5). Without it, told from the values of the file's number columns."
)


class MappingTargetOut(Schema):
    field: str
    part: int | None = None
    fallback: bool | None = None
    rest: str | None = None


class CustomerImportUndoOut(Schema):
    status: str = Field(description="`queued`, `running`, `completed` or `failed`; empty when not asked.")
    total: int = Field(description="Customers the undo goes through: those the import created and updated.")
    processed: int
    deleted_count: int = Field(description="Customers the import created, now deleted (restorable).")
    reverted_count: int = Field(description="Customers the import updated, their previous values back.")
    kept_count: int = Field(description="Customers edited after the import: left as they are.")
    already_deleted_count: int = Field(description="Customers the import created that were already deleted.")
    failure_reason: str
    available_until: datetime | None = Field(description="The undo can be asked until then (30 days).")


class CustomerImportOut(Schema):
    id: int
    status: str
    original_name: str
    file_format: str
    headers: list[str]
    mapping: dict[str, str | MappingTargetOut]
    duplicate_mode: str
    number_format: str = Field(description=NUMBER_FORMAT_DESCRIPTION)
    total_rows: int
    processed_rows: int
    progress_percent: int
    created_count: int
    updated_count: int
    skipped_count: int
    failed_count: int
    failure_reason: str
    error_file_url: str | None
    failed_rows_url: str
    duplicates_url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    undo: CustomerImportUndoOut


def _undo_out(customer_import: CustomerImport) -> dict[str, Any]:
    return {
        "status": customer_import.undo_status,
        "total": customer_import.undo_total,
        "processed": customer_import.undo_processed,
        "deleted_count": customer_import.undo_deleted_count,
        "reverted_count": customer_import.undo_reverted_count,
        "kept_count": customer_import.undo_kept_count,
        "already_deleted_count": customer_import.undo_gone_count,
        "failure_reason": customer_import.undo_failure_reason,
        "available_until": imports.customer_import_undo_until(customer_import),
    }


def _out(customer_import: CustomerImport) -> dict[str, Any]:
    return {
        "id": customer_import.pk,
        "status": customer_import.status,
        "original_name": customer_import.original_name,
        "file_format": customer_import.file_format,
        "headers": customer_import.headers,
        "mapping": customer_import.mapping,
        "duplicate_mode": customer_import.duplicate_mode,
        "number_format": customer_import.number_format,
        "total_rows": customer_import.total_rows,
        "processed_rows": customer_import.processed_rows,
        "progress_percent": imports.customer_import_progress_percent(customer_import),
        "created_count": customer_import.created_count,
        "updated_count": customer_import.updated_count,
        "skipped_count": customer_import.skipped_count,
        "failed_count": customer_import.failed_count,
        "failure_reason": customer_import.failure_reason,
        "error_file_url": reverse("api-v1:customer_import_errors", kwargs={"import_id": customer_import.pk})
        if imports.customer_import_has_failed_rows(customer_import)
        else None,
        "failed_rows_url": reverse(
            "api-v1:customer_import_failed_rows", kwargs={"import_id": customer_import.pk}
        ),
        "duplicates_url": reverse(
            "api-v1:customer_import_duplicates", kwargs={"import_id": customer_import.pk}
        ),
        "created_at": customer_import.created_at,
        "started_at": customer_import.started_at,
        "finished_at": customer_import.finished_at,
        "undo": _undo_out(customer_import),
    }


FORM_FIELDS = {"file", "mapping", "duplicate_mode", "number_format"}


def _refuse_unknown_fields(request: WorkspaceRequest) -> None:
    # As with JSON bodies, a field the endpoint does not read is a mistake to report, not to ignore.
    unknown = sorted((set(request.POST) | set(request.FILES)) - FORM_FIELDS)
    if unknown:
        raise ApiProblem.validation({name: ["Not a field of this form."] for name in unknown})


MAPPING_HELP = (
    'A JSON object of column index → field key, e.g. {"0": "full_name"}, or → {"field": …, "part": …, '
    '"fallback": …, "rest": …}.'
)


def _mapping_value_ok(value: Any) -> bool:
    return isinstance(value, str | dict)


def _parse_mapping(raw: str | None) -> dict[str, Any] | None:
    if raw is None or not raw.strip():
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and _mapping_value_ok(value) for key, value in mapping.items()
    ):
        raise ApiProblem.validation({"mapping": [MAPPING_HELP]})
    return mapping


# One column of the mapping: a field key ("" ignores the column, "new:<Label>" creates a text property), or an
# object saying how several columns fill one field.
MAPPING_VALUE_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "maxLength": 200, "pattern": NO_NUL},
        {
            "type": "object",
            "required": ["field"],
            "additionalProperties": False,
            "properties": {
                "field": {"type": "string", "maxLength": 200, "pattern": NO_NUL},
                "part": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": PART_MAX,
                    "description": "Joined with the field's other parts, with a space, in this order.",
                },
                "fallback": {
                    "type": "boolean",
                    "description": "Used only when the field's other columns are empty in the row.",
                },
                "rest": {
                    "type": "string",
                    "maxLength": 200,
                    "pattern": NO_NUL,
                    "description": "The text property (or `new:<Label>`) that keeps the other values of a "
                    "multi-valued cell (`a ::: b`); without it they are dropped.",
                },
            },
        },
    ]
}


# `mapping` is a JSON object in its own part of the form, `duplicate_mode` and `number_format` a few words;
# ninja alone would describe any text (relasi.api.openapi).
UPLOAD_FORM_EXTRA: dict[str, Any] = {
    "x-relasi-form-fields": {
        "mapping": {
            "type": "object",
            "description": "Column index → field; without it, the suggested mapping.",
            "propertyNames": {"pattern": "^[0-9]{1,4}$"},
            "additionalProperties": MAPPING_VALUE_SCHEMA,
        },
        "duplicate_mode": {
            "type": "string",
            "enum": list(DuplicateMode.values),
            "default": DuplicateMode.SKIP.value,
        },
        "number_format": {
            "type": "string",
            "enum": list(NumberFormat.values),
            "description": NUMBER_FORMAT_DESCRIPTION,
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
    request: WorkspaceRequest,
    file: UploadedFile,
    mapping: dict[str, Any] | None,
    duplicate_mode: str,
    number_format: str | None,
) -> tuple[int, Any]:
    try:
        customer_import = imports.customer_import_upload_and_start(
            workspace=request.workspace,
            actor=request.actor,
            file=file,
            original_name=file.name or "",
            mapping=mapping,
            duplicate_mode=duplicate_mode,
            number_format=number_format,
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
        'column, `"new:<Label>"` creates a text property; several columns fill one field with objects, e.g. '
        '`{"0": {"field": "full_name", "part": 1}, "1": {"field": "full_name", "part": 2}, '
        '"2": {"field": "full_name", "fallback": true}}`; `{"field": "phone", "rest": "other_phones"}` keeps '
        "the other values of a cell such as `0811… ::: 0812…` in a text property), `duplicate_mode` (`skip` or "
        "`update`) and `number_format` (`id`, `en` or `plain`). Without a mapping the suggested one is used "
        "(contact exports of Google, Outlook and HubSpot are recognised), without a number format the one the "
        "file's number columns show. The import runs in the background: poll the returned import. "
        + IDEMPOTENCY_DESCRIPTION
        + " (The body is the file's content with the mapping and the duplicate mode.)"
    ),
)
def customer_import_create(
    request: WorkspaceRequest,
    file: File[UploadedFile],
    mapping: Form[str | None] = None,
    duplicate_mode: Form[str] = DuplicateMode.SKIP.value,
    number_format: Form[str | None] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    _refuse_unknown_fields(request)
    parsed = _parse_mapping(mapping)
    style = number_format or None
    return idempotent_response(
        workspace=request.workspace,
        actor=request.actor,
        endpoint=CREATE_ENDPOINT,
        key=idempotency_key,
        # Hashing the file only when a key asks for it: a plain upload pays nothing.
        payload=lambda: {
            "file": _file_digest(file),
            "mapping": parsed,
            "duplicate_mode": duplicate_mode,
            "number_format": style,
        },
        work=lambda: _upload_and_start(request, file, parsed, duplicate_mode, style),
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
        raise _conflict(error, slug="import-not-stopped", title="This import cannot be continued.") from None
    customer_import.refresh_from_db()
    return Status(202, _out(customer_import))


@router.post(
    "/customer-imports/{int:import_id}/undo",
    response={202: CustomerImportOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, **COMMON_ERRORS},
    summary="Undo an import (within 30 days of its end)",
    description=(
        "Deletes the customers the import created (restorable from Deleted) and puts back the previous values of "
        "those it updated, except customers edited since the import, which are kept. Runs in the background: "
        "follow `undo` in the import's status. Allowed to whoever may import; a failed undo is continued by "
        "asking again. 409 when the import has not finished, was already undone or is past the 30 days."
    ),
)
def customer_import_undo(request: WorkspaceRequest, import_id: int) -> Status[dict[str, Any]]:
    try:
        customer_import = imports.customer_import_undo(
            workspace=request.workspace, actor=request.actor, import_id=import_id
        )
    except ValidationError as error:
        raise _conflict(error, slug="import-not-undoable", title="This import cannot be undone.") from None
    return Status(202, _out(customer_import))


def _conflict(error: ValidationError, *, slug: str, title: str) -> ApiProblem:
    """The import is not in a state that allows the action: a 409 saying why."""
    return ApiProblem(status=409, slug=slug, title=title, detail=" ".join(error.messages))


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


class RowsQuery(Schema):
    after: int = Field(0, ge=0, le=10_000_000, description="`next_after` of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class FailedRowOut(Schema):
    row: int = Field(description="The row as the spreadsheet numbers it (the header is row 1).")
    reason: str = Field(description="Why, in the request's language (Accept-Language).")
    reasons: list[dict[str, Any]] = Field(
        description="The same as codes and parameters: `code`, `column` (the file's header), `field`, `value` "
        "and the code's own (`choices`, `limit`...). Empty for rows failed before reasons were kept."
    )


class FailedRowsOut(Schema):
    items: list[FailedRowOut]
    next_after: int | None


class DuplicateRowOut(Schema):
    row: int = Field(description="The row as the spreadsheet numbers it (the header is row 1).")
    customer_id: int | None = Field(description="The customer it matched; null once that one was purged.")
    matched_on: str = Field(description="`identity` (channel and username), `phone` or `email`.")
    matched_value: str


class DuplicateRowsOut(Schema):
    items: list[DuplicateRowOut]
    next_after: int | None


@router.get(
    "/customer-imports/{int:import_id}/failed-rows",
    response={200: FailedRowsOut, 403: ProblemOut, 404: ProblemOut, **COMMON_ERRORS},
    url_name="customer_import_failed_rows",
    summary="The failed rows of an import, with their reasons",
    description="In file order, `limit` at a time; for the user or API key that ran the import, and for "
    "owners and admins.",
)
def customer_import_failed_rows(
    request: WorkspaceRequest, import_id: int, query: Query[RowsQuery]
) -> dict[str, Any]:
    customer_import = imports.customer_import_get(workspace=request.workspace, import_id=import_id)
    rows = imports.customer_import_errors(
        workspace=request.workspace,
        actor=request.actor,
        customer_import=customer_import,
        limit=query.limit + 1,
        after_line=query.after,
    )
    page = rows[: query.limit]
    return {
        "items": [{"row": row.line, "reason": row.reason, "reasons": row.reasons} for row in page],
        "next_after": page[-1].line if len(rows) > query.limit else None,
    }


@router.get(
    "/customer-imports/{int:import_id}/duplicates",
    response={200: DuplicateRowsOut, 404: ProblemOut, **COMMON_ERRORS},
    url_name="customer_import_duplicates",
    summary="The rows an import skipped as duplicates, with the customer each matched",
    description="In file order, `limit` at a time.",
)
def customer_import_duplicates(
    request: WorkspaceRequest, import_id: int, query: Query[RowsQuery]
) -> dict[str, Any]:
    customer_import = imports.customer_import_get(workspace=request.workspace, import_id=import_id)
    rows = imports.customer_import_duplicates(
        workspace=request.workspace,
        customer_import=customer_import,
        limit=query.limit + 1,
        after_line=query.after,
    )
    page = rows[: query.limit]
    return {
        "items": [
            {
                "row": row.line,
                "customer_id": row.customer_id,
                "matched_on": row.matched_on,
                "matched_value": row.matched_value,
            }
            for row in page
        ],
        "next_after": page[-1].line if len(rows) > query.limit else None,
    }
