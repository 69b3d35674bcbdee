"""The sandbox gateway's hosted-style payment page, /pay/sandbox/<token>/: what a payer sees at a real gateway,
with the buttons a developer needs — Pay, Pay a different amount, Expire, Send the callback again. Each sends a
signed callback over HTTP to /hooks/payments/sandbox, the path a real gateway's callback takes, and shows the
answer. Only while PAYMENT_GATEWAY is "sandbox"."""

from __future__ import annotations

import json
import uuid

import httpx
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from relasi.billing.forms import WholeNumberField
from relasi.billing.gateways.base import GATEWAY_TIMEOUT_SECONDS
from relasi.billing.gateways.sandbox import SIGNATURE_HEADER, sandbox_checkout_read, sandbox_signature
from relasi.billing.models import Bank, PaymentMethod
from relasi.core.emails import site_link

SENT_SALT = "relasi.billing.sandbox.sent"
AMOUNT_MAX = 10**12
# Typed as on the top-up form: whole rupiah, thousands separators allowed.
AMOUNT_FIELD = WholeNumberField(min_value=1, max_value=AMOUNT_MAX)


def _callback_send(body: bytes) -> tuple[int | None, str]:
    """POST a callback to Relasi's webhook as the gateway does: (HTTP status or None, what came back)."""
    url = site_link(reverse("payment_webhook", kwargs={"gateway": "sandbox"}))
    try:
        answer = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sandbox_signature(body)},
            timeout=GATEWAY_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        return None, f"{url}: {error.__class__.__name__}"
    return answer.status_code, answer.text[:500]


def _body(checkout: dict[str, object], status: str, amount: int | None) -> bytes:
    return json.dumps(
        {
            "event_id": f"sbx_{uuid.uuid4().hex}",
            "reference": checkout["reference"],
            "invoice_number": checkout["invoice_number"],
            "status": status,
            "amount": amount,
            "method": checkout["method"],
            "bank": checkout["bank"],
            "occurred_at": timezone.now().isoformat(),
        }
    ).encode()


def _other_amount(value: str) -> int | None:
    try:
        return AMOUNT_FIELD.clean(value)
    except ValidationError:
        return None


@require_http_methods(["GET", "POST"])
def sandbox_checkout(request: HttpRequest, token: str) -> HttpResponse:
    checkout = sandbox_checkout_read(token) if settings.PAYMENT_GATEWAY == "sandbox" else None
    if checkout is None:
        raise Http404
    context: dict[str, object] = {
        "checkout": checkout,
        "method_label": dict(PaymentMethod.choices).get(str(checkout["method"]), ""),
        "bank_label": dict(Bank.choices).get(str(checkout["bank"]), ""),
        "other_amount": "",
    }
    if request.method == "POST":
        body = _action_body(request, checkout, context)
        if body is not None:
            status, answer = _callback_send(body)
            context.update(
                sent=body.decode(),
                sent_token=signing.dumps(body.decode(), salt=SENT_SALT, compress=True),
                answer_status=status,
                answer=answer,
            )
    return render(request, "billing/sandbox_checkout.html", context)


def _action_body(
    request: HttpRequest, checkout: dict[str, object], context: dict[str, object]
) -> bytes | None:
    action = request.POST.get("action", "")[:20]
    if action == "pay":
        return _body(checkout, "paid", int(str(checkout["amount"])))
    if action == "pay_other":
        amount = _other_amount(request.POST.get("amount", ""))
        if amount is None:
            context["other_amount"] = request.POST.get("amount", "")[:20]
            context["amount_error"] = _("Enter an amount in whole rupiah.")
            return None
        return _body(checkout, "paid", amount)
    if action == "expire":
        return _body(checkout, "expired", None)
    if action == "resend":
        try:
            sent = signing.loads(request.POST.get("sent", "")[:20_000], salt=SENT_SALT)
        except signing.BadSignature:
            return None
        return str(sent).encode()
    return None
