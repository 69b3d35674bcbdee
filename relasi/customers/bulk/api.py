"""The bulk actions API, as the page: prepare (count and keep the selection), confirm (with the value and the count
confirmed), read the progress, undo a delete. Registered in relasi/api/router.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Response
from pydantic import ConfigDict

from relasi.core.api_fields import InputSchema, WholeNumber, text_rules
from relasi.core.api_responses import COMMON_ERRORS
from relasi.core.problems import ProblemOut
from relasi.customers.bulk import selectors as bulk_selectors
from relasi.customers.bulk import services as bulk_services
from relasi.customers.bulk.models_bulk import BulkAction, BulkJob
from relasi.customers.filters import SEARCH_MAX, FilterError, customer_filters_parse
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["bulk actions"])

ERRORS: dict[int, Any] = {**COMMON_ERRORS, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut}
ACTIONS = tuple(BulkAction.values)
EDIT_ACTIONS = (BulkAction.OWNER, BulkAction.ASSIGNEE, BulkAction.STATUS, BulkAction.PROPERTY)


class BulkFiltersIn(InputSchema):
    """The All customers filters, as the list endpoint's query parameters: every customer they select."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    source: list[str] = Field(default_factory=list, max_length=20)
    date: str = Field("", max_length=10)
    day: str = Field("", max_length=10)
    month: str = Field("", max_length=7)
    date_from: str = Field("", alias="from", max_length=10)
    date_to: str = Field("", alias="to", max_length=10)
    q: str = Field("", max_length=SEARCH_MAX * 2, json_schema_extra=text_rules(SEARCH_MAX * 2))
    deleted: bool = Field(False, description="The Deleted view (only `restore` applies there).")


class BulkJobIn(InputSchema):
    action: Literal["delete", "restore", "owner", "assignee", "status", "property"]
    property_key: str = Field("", max_length=60, description="The custom property a `property` job sets.")
    ids: list[WholeNumber] | None = Field(
        None, max_length=bulk_selectors.BULK_MAX_TICKED, description="Chosen customers; or send `filters`."
    )
    filters: BulkFiltersIn | None = Field(
        None, description="Every customer these filters select; or send `ids`."
    )


class BulkConfirmIn(InputSchema):
    # No default would make `value` required for delete and restore too; the endpoint requires it for an edit
    # (sent, even as null) through `model_fields_set`, so that a forgotten field never clears anything.
    value: str | WholeNumber | float | bool | list[str] | None = Field(
        None,
        description=(
            "Required for `owner`, `assignee`, `status` and `property` (a 422 naming `value` when it is left "
            "out): what `owner`/`assignee` (a member's user id), `status` (one of its options) or `property` (a "
            "value of its type, as in PATCH /customers) becomes. `null` clears the field of every customer of "
            "the job (refused for a required property); an empty string or list is refused, not taken as a "
            "clear. Not used to delete or restore."
        ),
    )
    expected_total: Annotated[WholeNumber, Field(ge=0, json_schema_extra={"minimum": 0})] | None = Field(
        None, description="The `total` you confirm; a 409 when the job holds another count."
    )


class BulkJobOut(Schema):
    id: int
    action: str = Field(description=f"One of {', '.join(ACTIONS)}.")
    property_key: str
    status: str = Field(description="draft, queued, running, completed or failed.")
    total: int = Field(description="Customers in the selection, counted when it was prepared.")
    processed: int
    changed_count: int = Field(description="Customers changed (the others already had the value, or left).")
    value: Any = None
    undo_of_id: int | None
    undone_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None
    finished_at: datetime | None


def _filters_dict(filters: BulkFiltersIn) -> dict[str, Any]:
    data = filters.model_dump(by_alias=True)
    data["deleted"] = "1" if filters.deleted else ""
    return data


@router.post(
    "/customers/bulk-jobs",
    response={201: BulkJobOut, **ERRORS},
    summary="Prepare a bulk action",
    description=(
        "Counts the customers chosen and keeps exactly these in a `draft` job, whose `total` is the count to "
        "confirm: `ids` (those of them that `filters`, when sent, still select), or without `ids` every customer "
        "`filters` selects. Deleting more than one customer needs the bulk permission."
    ),
)
def bulk_job_create(request: WorkspaceRequest, payload: BulkJobIn) -> Response:
    if payload.ids is None and payload.filters is None:
        raise ValidationError({"ids": ["Send `ids`, or `filters` for every customer they select."]})
    try:
        filters = customer_filters_parse(
            _filters_dict(payload.filters) if payload.filters is not None else {}
        )
    except FilterError as error:
        raise ValidationError(
            {f"filters.{name}": [message] for name, message in error.errors.items()}
        ) from None
    job = bulk_services.bulk_job_prepare(
        workspace=request.workspace,
        actor=request.actor,
        action=payload.action,
        filters=filters,
        ids=[number for number in payload.ids if number > 0] if payload.ids is not None else None,
        property_key=payload.property_key,
    )
    return Response(BulkJobOut.model_validate(job).model_dump(mode="json"), status=201)


@router.post(
    "/customers/bulk-jobs/{int:job_id}/confirm",
    response={200: BulkJobOut, **ERRORS},
    summary="Confirm a bulk action",
    description=(
        "Starts a draft job with its value (checked as PATCH /customers checks it). Small jobs are done when this "
        "answers; larger ones run in the background: follow GET /customers/bulk-jobs/{id}."
    ),
)
def bulk_job_confirm(request: WorkspaceRequest, job_id: int, payload: BulkConfirmIn) -> BulkJob:
    sent = "value" in payload.model_fields_set
    if not sent:
        # Read first (a 404 for another's draft, as the service): an edit left without `value` is refused here,
        # where "left out" is still told apart from an explicit null.
        job = bulk_selectors.bulk_job_get(workspace=request.workspace, actor=request.actor, job_id=job_id)
        if job.action in EDIT_ACTIONS:
            raise ValidationError({"value": [_("Send `value`: the new value, or null to clear it.")]})
    bulk_services.bulk_job_confirm(
        workspace=request.workspace,
        actor=request.actor,
        job_id=job_id,
        value=payload.value,
        clear=sent and payload.value is None,
        expected_total=payload.expected_total,
    )
    return bulk_selectors.bulk_job_get(workspace=request.workspace, actor=request.actor, job_id=job_id)


@router.get(
    "/customers/bulk-jobs/{int:job_id}",
    response={200: BulkJobOut, **COMMON_ERRORS, 404: ProblemOut},
    summary="A bulk action's progress",
)
def bulk_job_read(request: WorkspaceRequest, job_id: int) -> BulkJob:
    return bulk_selectors.bulk_job_get(workspace=request.workspace, actor=request.actor, job_id=job_id)


@router.post(
    "/customers/bulk-jobs/{int:job_id}/undo",
    response={201: BulkJobOut, **ERRORS},
    summary="Undo a bulk delete",
    description=(
        "Restores the job's customers that are still deleted and restorable, as a new `restore` job. "
        "A 409 when the job is no completed delete, was undone already, or nothing is left to restore."
    ),
)
def bulk_job_undo(request: WorkspaceRequest, job_id: int) -> Response:
    undo = bulk_services.bulk_job_undo(workspace=request.workspace, actor=request.actor, job_id=job_id)
    job = bulk_selectors.bulk_job_get(workspace=request.workspace, actor=request.actor, job_id=undo.pk)
    return Response(BulkJobOut.model_validate(job).model_dump(mode="json"), status=201)
