"""The top-up API: an order priced as the pages price it, confirmed with a payment method into its invoice (with
the gateway's payment page), the invoice read back and its proforma PDF. Thin: the rules live in
relasi.billing.pricing, orders and payments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema

from relasi.billing import selectors
from relasi.billing.gateways.base import GatewayUnavailable
from relasi.billing.models import Bank, Invoice, PaymentMethod, TopUpOrder
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import invoice_method_choose, payment_method_checked
from relasi.billing.pdf import invoice_pdf_of
from relasi.billing.pricing import MUV_BLOCK, MUV_MAX, WHATSAPP_MAX
from relasi.core.api_fields import InputSchema, WholeNumber
from relasi.core.api_responses import (
    COMMON_ERRORS,
    IDEMPOTENCY_DESCRIPTION,
    IdempotencyKeyHeader,
    idempotent_response,
    json_rendered,
)
from relasi.core.problems import ApiProblem, ProblemOut
from relasi.tenancy.permissions import Permission, permission_require
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["billing"])

CREATE_ENDPOINT = "top-up-orders.create"
READ_ERRORS: dict[int, Any] = {403: ProblemOut, 404: ProblemOut, **COMMON_ERRORS}

NOTICES = {
    "whatsapp_minimum": "The WhatsApp amount was below the minimum of IDR 1,000,000 and was raised to it."
}


class TopUpOrderIn(InputSchema):
    muv_visitors: WholeNumber = Field(
        0,
        ge=0,
        le=MUV_MAX,
        multiple_of=MUV_BLOCK,
        description="Unique visitors, in multiples of 500 (0: none).",
    )
    whatsapp_amount: WholeNumber = Field(
        0,
        ge=0,
        le=WHATSAPP_MAX,
        description="WhatsApp balance in whole rupiah; below 1,000,000 is raised to it.",
    )
    billing_email: str = Field(
        max_length=254,
        description="Where the billing information is sent on confirmation.",
        json_schema_extra={"format": "email"},
    )


class LineOut(Schema):
    kind: Literal["muv", "whatsapp"]
    quantity: int = Field(description="Visitors, or rupiah of WhatsApp balance.")
    price: int = Field(description="Whole rupiah.")


class NoticeOut(Schema):
    code: str
    message: str


class TopUpOrderOut(Schema):
    id: int
    status: Literal["draft", "confirmed"]
    muv_visitors: int
    whatsapp_amount: int = Field(description="As adjusted: raised to the minimum when asked for less.")
    lines: list[LineOut]
    notices: list[NoticeOut]
    subtotal: int
    vat_rate_percent: str
    vat_base: int
    vat: int
    total: int
    billing_email: str
    created_at: datetime


class ConfirmIn(InputSchema):
    payment_method: Literal[tuple(PaymentMethod.values)] = Field(  # type: ignore[valid-type]
        description="virtual_account (with a bank), card (adds 3.5% of the total) or ovo."
    )
    bank: Literal[tuple(Bank.values)] | None = Field(  # type: ignore[valid-type]
        None, description="The virtual account's bank."
    )
    billing_email: str | None = Field(
        None,
        max_length=254,
        description="Changes the order's billing email.",
        json_schema_extra={"format": "email"},
    )


class InvoiceOut(Schema):
    id: int
    number: str
    order_id: int
    status: Literal["awaiting_payment", "paid", "expired", "cancelled", "in_review"]
    amount: int = Field(description="The order's total, VAT included.")
    card_fee: int
    amount_due: int = Field(description="What is paid: the amount and the card fee.")
    payment_method: str | None
    bank: str | None
    payment_url: str | None = Field(description="The gateway's page where the payer pays.")
    due_at: datetime = Field(
        description="The last moment it can be paid: 23:59 of the next day, workspace time."
    )
    created_at: datetime
    paid_at: datetime | None
    paid_amount: int | None


def _order_out(order: TopUpOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "status": order.status,
        "muv_visitors": order.muv_visitors,
        "whatsapp_amount": order.whatsapp_amount,
        "lines": order.lines,
        "notices": [{"code": code, "message": NOTICES.get(code, code)} for code in order.notices],
        "subtotal": order.subtotal,
        "vat_rate_percent": order.vat_rate,
        "vat_base": order.vat_base,
        "vat": order.vat,
        "total": order.total,
        "billing_email": order.billing_email,
        "created_at": order.created_at,
    }


def _invoice_out(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "order_id": invoice.order_id,
        "status": invoice.status,
        "amount": invoice.amount,
        "card_fee": invoice.card_fee,
        "amount_due": invoice.amount_due,
        "payment_method": invoice.payment_method or None,
        "bank": invoice.bank or None,
        "payment_url": invoice.payment_url or None,
        "due_at": invoice.due_at,
        "created_at": invoice.created_at,
        "paid_at": invoice.paid_at,
        "paid_amount": invoice.paid_amount,
    }


@router.post(
    "/top-up-orders",
    response={201: TopUpOrderOut, 403: ProblemOut, 422: ProblemOut, 409: ProblemOut, **COMMON_ERRORS},
    summary="Price a top-up order",
    description="A draft order, priced as the top-up page prices it: the adjusted amounts, the lines, VAT and the "
    "notices (such as the WhatsApp minimum raise). Owners, admins and API keys; a workspace that withholds income "
    "tax is refused (403): its top-ups go through support. " + IDEMPOTENCY_DESCRIPTION,
)
def top_up_order_create_endpoint(
    request: WorkspaceRequest, payload: TopUpOrderIn, idempotency_key: IdempotencyKeyHeader = None
) -> HttpResponse:
    def create() -> tuple[int, Any]:
        order = top_up_order_create(
            workspace=request.workspace,
            actor=request.actor,
            muv_visitors=payload.muv_visitors,
            whatsapp_amount=payload.whatsapp_amount,
            billing_email=payload.billing_email,
        )
        return 201, json_rendered(_order_out(order))

    return idempotent_response(
        workspace=request.workspace,
        actor=request.actor,
        endpoint=CREATE_ENDPOINT,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        work=create,
    )


@router.get(
    "/top-up-orders/{int:order_id}",
    response={200: TopUpOrderOut, **READ_ERRORS},
    summary="Read a top-up order",
)
def top_up_order_read(request: WorkspaceRequest, order_id: int) -> dict[str, Any]:
    permission_require(workspace=request.workspace, actor=request.actor, permission=Permission.VIEW_BILLING)
    return _order_out(selectors.order_of(workspace=request.workspace, order_id=order_id))


@router.post(
    "/top-up-orders/{int:order_id}/confirm",
    response={200: InvoiceOut, 409: ProblemOut, 422: ProblemOut, 503: ProblemOut, **READ_ERRORS},
    summary="Confirm a top-up order with a payment method",
    description="Makes the order's invoice (once: confirming again answers the same invoice), emails the billing "
    "information, and opens a checkout at the payment gateway for the method: `payment_url` is where the payer "
    "pays. A card adds 3.5% of the total. 409 when the invoice can no longer be paid; 503 when the gateway did not "
    "answer (nothing was charged; send it again).",
)
def top_up_order_confirm_endpoint(
    request: WorkspaceRequest, order_id: int, payload: ConfirmIn
) -> dict[str, Any]:
    # The method is checked before the invoice is made and its billing email sent.
    payment_method_checked(method=payload.payment_method, bank=payload.bank or "")
    invoice = top_up_order_confirm(
        workspace=request.workspace,
        actor=request.actor,
        order_id=order_id,
        billing_email=payload.billing_email,
    )
    try:
        invoice = invoice_method_choose(
            workspace=request.workspace,
            actor=request.actor,
            invoice_id=invoice.pk,
            method=payload.payment_method,
            bank=payload.bank or "",
        )
    except GatewayUnavailable as error:
        raise ApiProblem(
            status=503,
            slug="gateway-unavailable",
            title="The payment gateway did not answer; nothing was charged.",
            detail=str(error),
        ) from None
    return _invoice_out(invoice)


@router.get(
    "/invoices/{int:invoice_id}", response={200: InvoiceOut, **READ_ERRORS}, summary="Read an invoice"
)
def invoice_read(request: WorkspaceRequest, invoice_id: int) -> dict[str, Any]:
    permission_require(workspace=request.workspace, actor=request.actor, permission=Permission.VIEW_BILLING)
    return _invoice_out(selectors.invoice_of(workspace=request.workspace, invoice_id=invoice_id))


@router.get(
    "/invoices/{int:invoice_id}/pdf",
    response={200: None, **READ_ERRORS},
    summary="Download an invoice's proforma PDF",
    description="application/pdf. A proforma, not a tax invoice: tax invoices are requested from support.",
    openapi_extra={"responses": {"200": {"description": "The PDF.", "content": {"application/pdf": {}}}}},
)
def invoice_pdf_download(request: WorkspaceRequest, invoice_id: int) -> HttpResponse:
    permission_require(workspace=request.workspace, actor=request.actor, permission=Permission.VIEW_BILLING)
    return invoice_pdf_of(workspace=request.workspace, invoice_id=invoice_id).as_download()
