"""The possible-duplicates API: the open pairs identity resolution flagged, and "Not a duplicate". Endpoints parse
and call the identity selectors and services; the rules live there."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Query, Router, Schema

from relasi.core.api_responses import COMMON_ERRORS
from relasi.core.pagination import CURSOR_MAX_LENGTH
from relasi.core.problems import ProblemOut
from relasi.customers import identity, identity_selectors
from relasi.customers.identity_selectors import DUPLICATES_MAX_PAGE_SIZE, DUPLICATES_PAGE_SIZE
from relasi.customers.models import Customer, DuplicateReason, PossibleDuplicate
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["customers"])

REASONS = ", ".join(DuplicateReason.values)


class DuplicateCustomerOut(Schema):
    id: int
    full_name: str
    phone: str
    email: str
    deleted_at: datetime | None


class PossibleDuplicateOut(Schema):
    id: int
    customers: list[DuplicateCustomerOut] = Field(description="The two customers, lower id first.")
    reason: str = Field(
        description=f"Which identifier of an event pointed at the second customer of the pair: one of {REASONS}."
    )
    created_at: datetime
    dismissed_at: datetime | None = Field(description="When someone said “Not a duplicate”; null while open.")

    @staticmethod
    def resolve_customers(obj: PossibleDuplicate) -> list[Customer]:
        return obj.customers


class PossibleDuplicateListOut(Schema):
    items: list[PossibleDuplicateOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    previous_cursor: str | None = Field(
        description="Pass as `cursor` for the page before this one; null on the first page."
    )
    position: int = Field(description="How many pairs come before this page.")


class PossibleDuplicateListQuery(Schema):
    cursor: Annotated[str, Field(max_length=CURSOR_MAX_LENGTH)] | None = Field(
        None,
        description="`next_cursor` or `previous_cursor` of a page of this list; any other value is a "
        "`400 invalid-cursor`.",
    )
    limit: int = Field(DUPLICATES_PAGE_SIZE, ge=1, le=DUPLICATES_MAX_PAGE_SIZE)


@router.get(
    "/customers/duplicates",
    response={200: PossibleDuplicateListOut, 400: ProblemOut, **COMMON_ERRORS},
    summary="List possible duplicates",
    description=(
        "The open pairs of customers that one inbound event's identifiers pointed at (e.g. a WhatsApp id of one "
        "and the phone of the other), newest first. Relasi never merges them itself. Keyset paging as in the "
        "customers list."
    ),
)
def possible_duplicate_list(
    request: WorkspaceRequest, query: Query[PossibleDuplicateListQuery]
) -> dict[str, Any]:
    page = identity_selectors.possible_duplicate_page(
        workspace=request.workspace, cursor=query.cursor or None, limit=query.limit
    )
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
        "position": page.position,
    }


@router.post(
    "/customers/duplicates/{int:duplicate_id}/dismiss",
    response={200: PossibleDuplicateOut, 404: ProblemOut, **COMMON_ERRORS},
    summary="Dismiss a possible duplicate",
    description=(
        "“Not a duplicate”: the pair leaves the list and is not flagged again. Dismissing a dismissed pair "
        "changes nothing and returns it."
    ),
)
def possible_duplicate_dismiss(request: WorkspaceRequest, duplicate_id: int) -> PossibleDuplicate:
    pair = identity.possible_duplicate_dismiss(
        workspace=request.workspace, actor=request.actor, duplicate_id=duplicate_id
    )
    return identity_selectors.possible_duplicate_get(workspace=request.workspace, duplicate_id=pair.pk)
