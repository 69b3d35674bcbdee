"""What the customer's page shows beside its details, as JSON: the activity timeline, the activity counts, and the
records associated with the customer (associate an existing one, take one off). The tabs' lists are the kinds'
lists with `customer=<id>` (relasi.interactions.api)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from ninja import Query, Router, Status

from relasi.core.api_responses import COMMON_ERRORS
from relasi.core.problems import ProblemOut
from relasi.customers import selectors as customer_selectors
from relasi.interactions import selectors, services
from relasi.interactions.kinds import KINDS
from relasi.interactions.models import Kind
from relasi.interactions.schemas import (
    ActivityOut,
    AssociationIn,
    AssociationOut,
    KindInPath,
    TimelineOut,
    TimelineQuery,
    page_body,
)
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["customers"])

CUSTOMER = "/customers/{int:customer_id}"
READ_ERRORS: dict[int, Any] = {**COMMON_ERRORS, 404: ProblemOut}


@router.get(
    f"{CUSTOMER}/timeline",
    response={200: TimelineOut, 400: ProblemOut, **READ_ERRORS},
    summary="A customer's activity timeline",
    description=(
        "Every change of the customer and of its records (created, updated, associated, messages), newest first, "
        "with who did it. Keyset paging both ways, as every list."
    ),
)
def customer_timeline(
    request: WorkspaceRequest, customer_id: int, query: Query[TimelineQuery]
) -> dict[str, Any]:
    customer = customer_selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    page = customer_selectors.customer_timeline_page(
        workspace=request.workspace, customer=customer, cursor=query.cursor or None, limit=query.limit
    )
    return page_body(page)


@router.get(
    f"{CUSTOMER}/activity",
    response={200: ActivityOut, **READ_ERRORS},
    summary="A customer's activity counts",
    description="How many conversations, tickets, deals and tasks concern the customer.",
)
def customer_activity(request: WorkspaceRequest, customer_id: int) -> dict[str, int]:
    customer = customer_selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    counts = selectors.customer_activity_counts(workspace=request.workspace, customer=customer)
    return {
        "conversations": counts[Kind.CONVERSATION],
        "tickets": counts[Kind.TICKET],
        "deals": counts[Kind.DEAL],
        "tasks": counts[Kind.TASK],
    }


@router.post(
    f"{CUSTOMER}/associations",
    response={200: AssociationOut, 201: AssociationOut, 422: ProblemOut, **READ_ERRORS},
    summary="Associate an existing record with a customer",
    description=(
        "201 when the record now concerns the customer; 200 when it already did (nothing written). A record or "
        "customer of another workspace is a 404."
    ),
)
def association_create(
    request: WorkspaceRequest, customer_id: int, payload: AssociationIn
) -> Status[dict[str, Any]]:
    customer = customer_selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    added = services.association_add(
        workspace=request.workspace,
        actor=request.actor,
        kind=payload.kind,
        record_id=payload.record_id,
        customer_id=customer.pk,
    )
    body = {"customer_id": customer.pk, "kind": payload.kind, "record_id": payload.record_id}
    return Status(201 if added else 200, body)


@router.delete(
    f"{CUSTOMER}/associations/{{kind}}/{{int:record_id}}",
    response={204: None, **READ_ERRORS},
    summary="Take a record off a customer",
    description="204 when done; 404 when the record did not concern the customer (or either does not exist).",
)
def association_delete(
    request: WorkspaceRequest,
    customer_id: int,
    record_id: int,
    kind: KindInPath,
) -> Status[None]:
    if kind not in KINDS:
        raise Http404
    customer = customer_selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    removed = services.association_remove(
        workspace=request.workspace,
        actor=request.actor,
        kind=kind,
        record_id=record_id,
        customer_id=customer.pk,
    )
    if not removed:
        raise Http404
    return Status(204, None)
