"""The billing API: the balances, their ledger, and usage reported by outside systems. Thin: the rules live in
the billing services and metering."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from relasi.billing import selectors
from relasi.billing.metering import usage_event_record
from relasi.billing.models import BalanceKind, EntryType, PricingCategory
from relasi.billing.selectors import LEDGER_MAX_PAGE_SIZE, LEDGER_PAGE_SIZE
from relasi.core.api_fields import InputSchema, text_rules
from relasi.core.api_responses import COMMON_ERRORS
from relasi.core.inputs import datetime_checked, text_checked
from relasi.core.problems import ProblemOut
from relasi.interactions.schemas import DATETIME_DESCRIPTION, DATETIME_SCHEMA, DateTimeText
from relasi.tenancy.permissions import Permission, permission_require
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["billing"])

EVENT_ID_MAX = 190


class BalanceOut(Schema):
    kind: str = Field(description="muv (unique visitors, a count) or whatsapp (rupiah).")
    remaining: int = Field(
        description="What is left; below zero for WhatsApp is owed, settled first by a top-up."
    )
    period_start: str | None = Field(description="The current period's first day, YYYY-MM-DD.")
    period_end: str | None = Field(description="Its last day.")
    period_total: int = Field(description="What the period brought: allowance and top-ups.")
    used: int
    remaining_percent: int | None = Field(description="What is left of the period's total, 0 to 100.")
    low: bool = Field(description="Below 40% of the period's total.")


class BalancesOut(Schema):
    muv: BalanceOut
    whatsapp: BalanceOut


def _balance_out(request: WorkspaceRequest, kind: str) -> dict[str, Any]:
    balance = selectors.balances_of(workspace=request.workspace)[kind]
    summary = selectors.balance_summary(balance)
    return {
        "kind": kind,
        "remaining": summary.remaining,
        "period_start": summary.period_start.isoformat() if summary.period_start else None,
        "period_end": summary.period_end.isoformat() if summary.period_end else None,
        "period_total": summary.period_total,
        "used": summary.used,
        "remaining_percent": summary.remaining_percent,
        "low": summary.low,
    }


@router.get(
    "/balances",
    response={200: BalancesOut, **COMMON_ERRORS},
    summary="The workspace's balances",
    description="Unique visitors and WhatsApp balance of the current period. Owners, admins and API keys.",
)
def balances_read(request: WorkspaceRequest) -> dict[str, Any]:
    permission_require(workspace=request.workspace, actor=request.actor, permission=Permission.VIEW_BILLING)
    return {kind: _balance_out(request, kind) for kind in BalanceKind.values}


class LedgerEntryOut(Schema):
    id: int
    balance: str = Field(description="muv or whatsapp.")
    type: str = Field(description=f"One of {', '.join(EntryType.values)}.")
    amount: int = Field(description="Signed: a credit is positive, a debit negative.")
    balance_after: int
    reason: str
    reference: str
    created_at: datetime


class LedgerPageOut(Schema):
    items: list[LedgerEntryOut]
    next_cursor: str | None
    previous_cursor: str | None
    position: int


class LedgerQuery(Schema):
    balance: Literal[tuple(BalanceKind.values)] | None = None  # type: ignore[valid-type]
    type: Literal[tuple(EntryType.values)] | None = None  # type: ignore[valid-type]
    cursor: str | None = Field(None, description="`next_cursor` or `previous_cursor` of a page of this list.")
    limit: int = Field(LEDGER_PAGE_SIZE, ge=1, le=LEDGER_MAX_PAGE_SIZE)


@router.get(
    "/ledger-entries",
    response={200: LedgerPageOut, 400: ProblemOut, **COMMON_ERRORS},
    summary="The balances' ledger",
    description="Newest first, keyset-paged. Owners, admins and API keys.",
)
def ledger_list(request: WorkspaceRequest, query: Query[LedgerQuery]) -> dict[str, Any]:
    permission_require(workspace=request.workspace, actor=request.actor, permission=Permission.VIEW_BILLING)
    page = selectors.ledger_keyset_page(
        workspace=request.workspace,
        kind=query.balance or "",
        entry_type=query.type or "",
        cursor=query.cursor or None,
        limit=query.limit,
    )
    return {
        "items": [
            {
                "id": entry.pk,
                "balance": entry.kind,
                "type": entry.entry_type,
                "amount": entry.amount,
                "balance_after": entry.balance_after,
                "reason": entry.reason,
                "reference": entry.reference,
                "created_at": entry.created_at,
            }
            for entry in page.items
        ],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
        "position": page.position,
    }


class UsageEventIn(InputSchema):
    id: str = Field(
        ...,
        description="Your own id of the event: the same id again changes nothing.",
        json_schema_extra=text_rules(EVENT_ID_MAX, required=True),
    )
    type: Literal["visitor", "whatsapp_message"] = Field(
        description="visitor: a customer's visit (counted once per calendar month); whatsapp_message: a billable "
        "message (its category's price, once)."
    )
    customer_id: int | None = Field(None, ge=1, le=2**63 - 1, description="visitor: the customer.")
    category: Literal[tuple(PricingCategory.values)] | None = Field(  # type: ignore[valid-type]
        None, description="whatsapp_message: Meta's pricing category."
    )
    at: DateTimeText | None = Field(
        None,
        description=f"When it happened: {DATETIME_DESCRIPTION} Now when left out.",
        json_schema_extra=DATETIME_SCHEMA,
    )


class UsageEventOut(Schema):
    id: str
    status: Literal["recorded", "duplicate", "not_billable"] = Field(
        description="recorded: a balance changed; duplicate: a repeat, nothing changed; not_billable: a category "
        "that costs nothing (service messages), nothing changed."
    )


@router.post(
    "/usage-events",
    response={200: UsageEventOut, 201: UsageEventOut, 422: ProblemOut, **COMMON_ERRORS},
    summary="Report usage from another system",
    description=(
        "Metered as Relasi's own ingestion: a visitor counts one unique visitor per customer and month (in the "
        "workspace's time zone), a WhatsApp message debits its category's price once per event id. 201 when it "
        "changed a balance, 200 for a repeat or a message that costs nothing (nothing changed). Owners, admins and API "
        "keys."
    ),
)
def usage_event_create(request: WorkspaceRequest, payload: UsageEventIn) -> Status:
    permission_require(workspace=request.workspace, actor=request.actor, permission=Permission.RECORD_USAGE)
    try:
        event_id = text_checked(payload.id, max_length=EVENT_ID_MAX).strip()
    except ValidationError as error:
        raise ValidationError({"id": error.messages}) from None
    if not event_id:
        raise ValidationError({"id": [_("Send your own id of the event.")]})
    try:
        moment = datetime_checked(payload.at) if payload.at else None
    except ValidationError as error:
        raise ValidationError({"at": error.messages}) from None
    outcome = usage_event_record(
        workspace=request.workspace,
        actor=request.actor,
        event_id=event_id,
        event_type=payload.type,
        customer_id=payload.customer_id,
        category=payload.category or "",
        at=moment,
    )
    return Status(201 if outcome == "recorded" else 200, {"id": event_id, "status": outcome})
