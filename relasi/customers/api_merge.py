"""Merging two customers through the API, and undoing it. The rules live in relasi.customers.merge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal, get_args

from annotated_types import Interval
from django.conf import settings
from ninja import Field, Router, Schema, Status

from relasi.core.api_fields import InputSchema, WholeNumber
from relasi.core.api_responses import COMMON_ERRORS
from relasi.core.problems import ProblemOut
from relasi.customers import merge
from relasi.customers.models import CustomerMerge
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["customers"])

FIELDS = ", ".join(merge.MERGE_FIELDS)
# The bounds as JSON Schema states them (minimum, maximum), then WholeNumber's reading of 5.0 as 5.
CustomerId = Annotated[int, Interval(ge=1, le=2**63 - 1), get_args(WholeNumber)[1]]


Choice = Literal["survivor", "merged"]


class MergeFieldsIn(InputSchema):
    """One optional choice per field a merge chooses between (merge.MERGE_FIELDS, checked by a test), and no other:
    a misspelt field is refused by the schema itself."""

    full_name: Choice | None = None
    phone: Choice | None = None
    email: Choice | None = None
    source: Choice | None = None
    status: Choice | None = None
    job_title: Choice | None = None
    province: Choice | None = None
    city: Choice | None = None
    district: Choice | None = None
    subdistrict: Choice | None = None
    zip_code: Choice | None = None
    owner: Choice | None = None
    assignee: Choice | None = None


class MergeIn(InputSchema):
    survivor_id: CustomerId = Field(description="The customer that stays, with its id.")
    merged_id: CustomerId = Field(description="The customer merged into it; it becomes a tombstone.")
    fields: MergeFieldsIn = Field(
        default_factory=MergeFieldsIn,
        description=(
            f"For a field ({FIELDS}), whose value to keep. A field left out keeps the survivor's value, or the "
            "merged customer's when the survivor has none. Custom properties are kept from both (the survivor's "
            "value wins)."
        ),
    )


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    created_at: datetime
    undo_until: datetime = Field(description="Until when `POST /customers/merges/{id}/undo` can undo it.")
    undone_at: datetime | None

    @staticmethod
    def resolve_undo_until(obj: CustomerMerge) -> datetime:
        return obj.created_at + timedelta(days=settings.CUSTOMER_DELETED_RETENTION_DAYS)


ERRORS = {400: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut, **COMMON_ERRORS}


@router.post(
    "/customers/merge",
    response={201: MergeOut, **ERRORS},
    summary="Merge two customers",
    description=(
        "Moves the merged customer's channel identities, conversations, campaigns, companies, tickets, deals, "
        "tasks and timeline to the survivor, sets the survivor's fields as `fields` chooses, and keeps the merged "
        "customer as a tombstone: reading it answers `308` to the survivor. Audited; undo within 30 days."
    ),
)
def customer_merge(request: WorkspaceRequest, payload: MergeIn) -> Status[CustomerMerge]:
    record = merge.customers_merge(
        workspace=request.workspace,
        actor=request.actor,
        survivor_id=payload.survivor_id,
        merged_id=payload.merged_id,
        choices=payload.fields.model_dump(exclude_none=True),
    )
    return Status(201, record)


@router.post(
    "/customers/merges/{int:merge_id}/undo",
    response={200: MergeOut, **ERRORS},
    summary="Undo a merge",
    description=(
        "Brings the merged customer back with everything that moved from it. The survivor's fields go back to "
        "their values before the merge unless someone edited the survivor since. `409` when already undone or "
        "older than 30 days."
    ),
)
def customer_merge_undo(request: WorkspaceRequest, merge_id: int) -> CustomerMerge:
    return merge.customer_merge_undo(workspace=request.workspace, actor=request.actor, merge_id=merge_id)
