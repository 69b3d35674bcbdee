"""A conversation's messages: read oldest first, and add one (a provider's message sent again is stored once)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from relasi.core.api_responses import (
    COMMON_ERRORS,
    IDEMPOTENCY_DESCRIPTION,
    IdempotencyKeyHeader,
    idempotent_response,
    json_rendered,
)
from relasi.core.inputs import datetime_checked, text_checked
from relasi.core.problems import ProblemOut
from relasi.interactions import selectors, services
from relasi.interactions.models import Conversation, Kind
from relasi.interactions.schemas import (
    MESSAGE_TEXT_MAX,
    MESSAGE_TYPE_MAX,
    PROVIDER_ID_MAX,
    MessageIn,
    MessageListOut,
    MessageOut,
    PageQuery,
    page_body,
)
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["interactions"])

PATH = "/conversations/{int:conversation_id}/messages"


def _conversation(request: WorkspaceRequest, conversation_id: int) -> Conversation:
    record = selectors.record_get(
        workspace=request.workspace, kind=Kind.CONVERSATION, record_id=conversation_id
    )
    assert isinstance(record, Conversation)
    return record


def _message_values(payload: MessageIn) -> dict[str, Any]:
    """The message's values bounded as every input is (relasi.core.inputs); ValidationError naming each field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"direction": payload.direction}
    for name, key, limit in (
        ("text", "text", MESSAGE_TEXT_MAX),
        ("type", "message_type", MESSAGE_TYPE_MAX),
        ("provider_message_id", "provider_message_id", PROVIDER_ID_MAX),
    ):
        try:
            values[key] = text_checked(getattr(payload, name), max_length=limit)
        except ValidationError as error:
            errors[name] = list(error.messages)
    if "message_type" in values and not values["message_type"]:
        errors["type"] = [_("This field is required.")]
    if payload.sent_at is not None:
        try:
            # Kept in UTC, so the answer shows it as a read of the stored message does.
            values["sent_at"] = datetime_checked(payload.sent_at).astimezone(UTC)
        except ValidationError as error:
            errors["sent_at"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return values


@router.get(
    PATH,
    response={200: MessageListOut, 400: ProblemOut, 404: ProblemOut, **COMMON_ERRORS},
    summary="List a conversation's messages",
    description="Oldest first, as a chat reads. Keyset paging both ways, as every list.",
)
def message_list(request: WorkspaceRequest, conversation_id: int, query: Query[PageQuery]) -> dict[str, Any]:
    conversation = _conversation(request, conversation_id)
    page = selectors.conversation_messages_page(
        workspace=request.workspace, conversation=conversation, cursor=query.cursor or None, limit=query.limit
    )
    return page_body(page)


@router.post(
    PATH,
    response={
        200: MessageOut,
        201: MessageOut,
        404: ProblemOut,
        409: ProblemOut,
        422: ProblemOut,
        **COMMON_ERRORS,
    },
    summary="Add a message to a conversation",
    description=(
        "201 with the new message. A `provider_message_id` already stored in the workspace (a provider delivering "
        "the same message again) stores nothing and answers 200 with the stored message. "
        + IDEMPOTENCY_DESCRIPTION
    ),
)
def message_create(
    request: WorkspaceRequest,
    conversation_id: int,
    payload: MessageIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> HttpResponse:
    _conversation(request, conversation_id)

    def create() -> tuple[int, Any]:
        message, created = services.message_add(
            workspace=request.workspace,
            actor=request.actor,
            conversation_id=conversation_id,
            **_message_values(payload),
        )
        return (201 if created else 200), json_rendered(MessageOut.model_validate(message).model_dump())

    return idempotent_response(
        workspace=request.workspace,
        actor=request.actor,
        endpoint=f"POST {PATH}",
        key=idempotency_key,
        payload={"conversation": conversation_id, "message": payload.model_dump(mode="json")},
        work=create,
    )
