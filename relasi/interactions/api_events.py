"""The event ingestion API, POST /api/v1/events: a batch of events from another system, each applied once per
client event id and answered on its own. Thin: the rules live in relasi.interactions.events."""

from __future__ import annotations

from typing import Any

from ninja import Field, Router, Schema

from relasi.core.api_fields import InputSchema
from relasi.core.api_responses import COMMON_ERRORS
from relasi.core.problems import ProblemOut
from relasi.interactions import events
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["events"])

EVENT_EXAMPLE = {
    "events": [
        {
            "id": "crm-42",
            "type": "contact",
            "contact": {
                "full_name": "Budi Santoso",
                "phone": "0812 3456 7890",
                "email": "budi@example.com",
                "identities": [{"channel": "instagram", "external_id": "1784", "username": "budi.s"}],
            },
        },
        {
            "id": "crm-43",
            "type": "message",
            "message": {
                "contact": {"phone": "0812 3456 7890"},
                "channel": "whatsapp",
                "direction": "inbound",
                "text": "Halo, stok masih ada?",
                "sent_at": "2026-11-28T10:00:00+07:00",
                "provider_message_id": "wamid.HBgL",
            },
        },
        {
            "id": "crm-44",
            "type": "ticket",
            "ticket": {"title": "Refund", "contact": {"phone": "0812 3456 7890"}},
        },
    ]
}


class EventBatchIn(InputSchema):
    events: list[Any] = Field(
        ...,
        min_length=1,
        max_length=events.MAX_EVENTS,
        description=(
            f"1 to {events.MAX_EVENTS} events, each an object with `id` (your own event id, unique in the "
            "workspace: a repeat is a `duplicate` and changes nothing), `type` (one of "
            f"{', '.join(events.EVENT_TYPES)}) and an object named after the type. See docs/ingestion.md. An item "
            "that is not such an object is that event's `rejected` result, not a refusal of the batch."
        ),
    )


class EventResultOut(Schema):
    id: str = Field(description="The event's `id` as sent (`#<position>` when it had none).")
    status: str = Field(description="created, updated, duplicate or rejected.")
    customer_id: int | None = Field(description="The customer the event was applied to, when it names one.")
    record_id: int | None = Field(
        description="The record the event created or changed (a message's conversation), when there is one."
    )
    errors: dict[str, list[str]] = Field(
        description="Why a rejected event was refused, per field; empty otherwise."
    )


class EventBatchOut(Schema):
    results: list[EventResultOut] = Field(description="One result per event, in the order sent.")


@router.post(
    "/events",
    response={200: EventBatchOut, 422: ProblemOut, **COMMON_ERRORS},
    summary="Send a batch of events",
    description=(
        "Contacts, messages, conversation status changes, tickets, deals and tasks from another system. Each "
        "event is applied on its own: one bad event is `rejected` with its reasons and the others are applied. "
        "An event id applied before is a `duplicate` (so a batch can be retried safely). A body that is not "
        f"a batch of 1 to {events.MAX_EVENTS} events is one 422 problem."
    ),
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EVENT_EXAMPLE}}}},
)
def events_send(request: WorkspaceRequest, payload: EventBatchIn) -> dict[str, Any]:
    results = events.events_ingest(workspace=request.workspace, actor=request.actor, events=payload.events)
    return {"results": results}
