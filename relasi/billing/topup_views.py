"""The self top-up pages (owners and admins): the form, the booking confirmation, the sales invoice with its
payment method, and the proforma PDF; a workspace withholding income tax asks support instead. Thin: the rules
live in relasi.billing.pricing, orders, payments and support."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from relasi.billing.forms import ConfirmForm, PaymentMethodForm, TaxSupportForm, TopUpForm
from relasi.billing.gateways.base import GatewayUnavailable
from relasi.billing.models import BalanceKind, OrderStatus, PaymentMethod
from relasi.billing.orders import top_up_order_confirm, top_up_order_create
from relasi.billing.payments import invoice_method_choose
from relasi.billing.pdf import invoice_pdf_of
from relasi.billing.pricing import CARD_FEE_PERCENT, MUV_BLOCK, MUV_BLOCK_PRICE, WHATSAPP_MINIMUM, card_fee
from relasi.billing.selectors import balances_of, invoice_of, invoice_of_order, order_of
from relasi.billing.support import support_request_tax_create
from relasi.core.ids import ids_parse
from relasi.tenancy.access import workspace_page
from relasi.tenancy.permissions import Permission
from relasi.tenancy.requests import WorkspacePageRequest


def _url(name: str, request: WorkspacePageRequest, **kwargs: Any) -> str:
    return reverse(f"billing:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _outstanding(request: WorkspacePageRequest) -> int:
    amount = balances_of(workspace=request.workspace)[BalanceKind.WHATSAPP].amount
    return -amount if amount < 0 else 0


def _form_initial(request: WorkspacePageRequest) -> dict[str, Any]:
    """ "Change order" comes back with the draft's values; otherwise the user's email is the billing email."""
    found = ids_parse([request.GET.get("order", "")[:20]])
    if found:
        order = order_of(workspace=request.workspace, order_id=found[0])
        return {
            "muv_visitors": order.muv_visitors,
            "whatsapp_amount": order.whatsapp_amount or None,
            "billing_email": order.billing_email,
        }
    return {"muv_visitors": 0, "billing_email": request.member.email}


@require_http_methods(["GET", "POST"])
@workspace_page(permission=Permission.VIEW_BILLING)
def top_up(request: WorkspacePageRequest) -> HttpResponseBase:
    if request.workspace.withholds_income_tax:
        return _tax_support(request)
    form = TopUpForm(request.POST) if request.method == "POST" else TopUpForm(initial=_form_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            order = top_up_order_create(
                workspace=request.workspace,
                actor=request.actor,
                muv_visitors=form.cleaned_data["muv_visitors"] or 0,
                whatsapp_amount=form.cleaned_data["whatsapp_amount"] or 0,
                billing_email=form.cleaned_data["billing_email"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(_url("top_up_order", request, order_id=order.pk))
    return render(
        request,
        "billing/top_up.html",
        {
            "section": "usage",
            "form": form,
            "outstanding": _outstanding(request),
            "muv_block": MUV_BLOCK,
            "muv_block_price": MUV_BLOCK_PRICE,
            "whatsapp_minimum": WHATSAPP_MINIMUM,
        },
        status=400 if request.method == "POST" else 200,
    )


def _tax_support(request: WorkspacePageRequest) -> HttpResponse:
    form = TaxSupportForm(request.POST) if request.method == "POST" else TaxSupportForm()
    if request.method == "POST" and form.is_valid():
        try:
            support_request_tax_create(
                workspace=request.workspace,
                actor=request.actor,
                muv_visitors=form.cleaned_data["muv_visitors"] or 0,
                whatsapp_amount=form.cleaned_data["whatsapp_amount"] or 0,
                message=form.cleaned_data["message"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your request was sent to Relasi's support: they will contact you."))
            return redirect(_url("subscription", request))
    return render(
        request,
        "billing/top_up_tax.html",
        {"section": "usage", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_page(permission=Permission.VIEW_BILLING)
def top_up_order(request: WorkspacePageRequest, order_id: int) -> HttpResponseBase:
    """The booking confirmation: the order as priced, still editable, and "Confirm payment"."""
    order = order_of(workspace=request.workspace, order_id=order_id)
    if order.status == OrderStatus.CONFIRMED:
        invoice = invoice_of_order(workspace=request.workspace, order_id=order.pk)
        if invoice is not None:
            return redirect(_url("invoice", request, invoice_id=invoice.pk))
    form = (
        ConfirmForm(request.POST)
        if request.method == "POST"
        else ConfirmForm(initial={"billing_email": order.billing_email})
    )
    if request.method == "POST" and form.is_valid():
        try:
            invoice = top_up_order_confirm(
                workspace=request.workspace,
                actor=request.actor,
                order_id=order.pk,
                billing_email=form.cleaned_data["billing_email"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The billing information was sent to %(email)s.")
                % {"email": form.cleaned_data["billing_email"]},
            )
            return redirect(_url("invoice", request, invoice_id=invoice.pk))
    return render(
        request,
        "billing/top_up_order.html",
        {"section": "usage", "order": order, "form": form, "whatsapp_minimum": WHATSAPP_MINIMUM},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_page(permission=Permission.VIEW_BILLING)
def invoice(request: WorkspacePageRequest, invoice_id: int) -> HttpResponseBase:
    """The sales invoice: its figures, deadline and countdown, and the payment method, which goes to the
    gateway's page."""
    found = invoice_of(workspace=request.workspace, invoice_id=invoice_id)
    form = (
        PaymentMethodForm(request.POST)
        if request.method == "POST"
        else PaymentMethodForm(
            initial={
                "payment_method": found.payment_method or PaymentMethod.VIRTUAL_ACCOUNT,
                "bank": found.bank,
            }
        )
    )
    if request.method == "POST" and form.is_valid():
        try:
            chosen = invoice_method_choose(
                workspace=request.workspace,
                actor=request.actor,
                invoice_id=found.pk,
                method=form.cleaned_data["payment_method"],
                bank=form.cleaned_data["bank"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except GatewayUnavailable:
            messages.error(request, _("The payment provider did not answer. Nothing was charged: try again."))
            return redirect(_url("invoice", request, invoice_id=found.pk))
        else:
            # Empty when a second click chose again meanwhile: the invoice page shows the latest checkout.
            return redirect(chosen.payment_url or _url("invoice", request, invoice_id=found.pk))
        found.refresh_from_db()
    order = order_of(workspace=request.workspace, order_id=found.order_id)
    return render(
        request,
        "billing/invoice.html",
        {
            "section": "usage",
            "invoice": found,
            "order": order,
            "form": form,
            "card_fee_percent": CARD_FEE_PERCENT,
            "card_fee": card_fee(total=found.amount),
            "due_local": timezone.localtime(found.due_at, request.workspace.zone),
            "zone": request.workspace.time_zone,
        },
        status=400 if request.method == "POST" else 200,
    )


@workspace_page(permission=Permission.VIEW_BILLING)
def invoice_download(request: WorkspacePageRequest, invoice_id: int) -> HttpResponse:
    return invoice_pdf_of(workspace=request.workspace, invoice_id=invoice_id).as_download()
