"""The WhatsApp Cloud API webhook, /hooks/whatsapp/<token>: Meta's verification handshake (GET) and its signed
event POSTs, stored at once and read by a job. Thin: the rules live in the channel services and the job."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from relasi.core.inputs import request_body_within
from relasi.interactions.channels import webhook_event_receive
from relasi.interactions.channels_selectors import whatsapp_channel_by_url_token

# Meta's payloads are a few kilobytes; more than this is not Meta, and is refused before it is read.
WEBHOOK_MAX_BYTES = 1024 * 1024


def _text(status: int, text: str = "") -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest, token: str) -> HttpResponse:
    channel = whatsapp_channel_by_url_token(token=token)
    if channel is None:
        return _text(404, "Not found.")
    if request.method == "GET":
        # Meta's handshake: echo the challenge when the verify token is the one set for this channel.
        mode = request.GET.get("hub.mode", "")
        verify_token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        if mode != "subscribe" or not channel.verify_token_matches(verify_token[:200]):
            return _text(403, "Wrong verify token.")
        return _text(200, challenge[:200])
    body = request_body_within(request, WEBHOOK_MAX_BYTES)
    if body is None:
        return _text(413, "The body is too large.")
    if not channel.signature_valid(body, request.headers.get("X-Hub-Signature-256", "")):
        return _text(401, "Bad or missing signature.")
    webhook_event_receive(channel=channel, body=body)
    return _text(200, "OK")
