"""/hooks/payments/<gateway>: a payment gateway's callbacks. The adapter verifies the raw body (signature or
token) and reads it; relasi.billing.payments applies it once. Thin: the rules live there."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from relasi.billing.gateways import gateway_named
from relasi.billing.gateways.base import (
    CALLBACK_MAX_BYTES,
    CallbackInvalid,
    CallbackRefused,
    GatewayUnavailable,
)
from relasi.billing.payments import payment_event_apply
from relasi.core.inputs import request_body_within

logger = logging.getLogger(__name__)


def _json(http_status: int, **body: object) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=http_status, content_type="application/json")


@csrf_exempt
@require_POST
def payment_webhook(request: HttpRequest, gateway: str) -> HttpResponse:
    # Only the gateway invoices are paid through answers: another one's callbacks are not Relasi's to take.
    adapter = gateway_named(gateway) if gateway == settings.PAYMENT_GATEWAY else None
    if adapter is None:
        return _json(404, status="unknown_gateway")
    body = request_body_within(request, CALLBACK_MAX_BYTES)
    if body is None:
        return _json(413, status="too_large")
    try:
        event = adapter.callback_read(headers=request.headers, body=body)
    except CallbackRefused as refusal:
        return _json(401, status="refused", detail=str(refusal))
    except CallbackInvalid as invalid:
        return _json(400, status="invalid", detail=str(invalid))
    except GatewayUnavailable as unavailable:
        # The gateway retries a callback answered with a 5xx: the event is taken when it can be checked.
        logger.warning("payment callback of %s not checked: %s", gateway, unavailable)
        return _json(503, status="unavailable", detail=str(unavailable))
    applied = payment_event_apply(gateway=adapter.name, event=event)
    if applied is None:
        return _json(404, status="unknown_invoice")
    return _json(200, status=applied.outcome)
