"""The WhatsApp Cloud API webhook: Meta's handshake, signed POSTs stored and turned into customers, conversations,
messages and campaign delivery statuses; out-of-order statuses; users who hide their phone; other workspaces."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from relasi.customers.models import ChannelIdentity, Customer
from relasi.interactions.channels import whatsapp_channel_add
from relasi.interactions.models import (
    CampaignRecipient,
    Conversation,
    Message,
    PendingDeliveryStatus,
    WebhookEvent,
)
from relasi.interactions.services import record_create

pytestmark = pytest.mark.django_db

SECRET = "meta-app-secret"
VERIFY = "my-verify-token"


@pytest.fixture
def channel(acme, alice):
    return whatsapp_channel_add(
        workspace=acme, actor=alice, phone_number_id="106540352242922", app_secret=SECRET, verify_token=VERIFY
    )


@pytest.fixture
def globex_channel(globex, charlie):
    return whatsapp_channel_add(
        workspace=globex,
        actor=charlie,
        phone_number_id="222222222222222",
        app_secret="globex-secret",
        verify_token="globex-verify",
    )


def _url(channel) -> str:
    return f"/hooks/whatsapp/{channel.url_token}"


def _signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(channel, payload: Any, *, secret: str = SECRET, capture) -> Any:
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    with capture(execute=True):
        return Client().post(
            _url(channel),
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=_signature(body, secret),
        )


def _value(**value: Any) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "6281100000000",
                                "phone_number_id": "106540352242922",
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def _text_message(
    *,
    message_id: str = "wamid.A1",
    user_id: str = "ID.1234567890",
    wa_id: str | None = "6281298765432",
    name: str = "Budi Santoso",
    username: str | None = None,
    text: str = "Halo",
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": name}, "user_id": user_id}
    message: dict[str, Any] = {
        "from_user_id": user_id,
        "id": message_id,
        "timestamp": "1764300000",
        "type": "text",
        "text": {"body": text},
    }
    if username:
        contact["profile"]["username"] = username
    if wa_id:
        contact["wa_id"] = wa_id
        message["from"] = wa_id
    return _value(contacts=[contact], messages=[message])


def test_the_handshake_echoes_the_challenge_with_the_right_verify_token(channel) -> None:
    # given a connected number
    client = Client()
    # when Meta verifies the URL with the right token, a wrong one, and an unknown URL
    good = client.get(
        _url(channel), {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    )
    wrong = client.get(
        _url(channel), {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    )
    unknown = client.get(
        "/hooks/whatsapp/not-a-token",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
    )
    # then the challenge comes back as text; a wrong token is a 403 and an unknown URL a 404
    assert (good.status_code, good.content, good["Content-Type"]) == (
        200,
        b"1158201444",
        "text/plain; charset=utf-8",
    )
    assert wrong.status_code == 403
    assert unknown.status_code == 404


def test_a_bad_or_missing_signature_is_a_401_and_nothing_is_stored(acme, channel) -> None:
    body = json.dumps(_text_message()).encode()
    client = Client()
    # when the body is signed with another secret, or not at all
    forged = client.post(
        _url(channel),
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=_signature(body, "another-secret"),
    )
    missing = client.post(_url(channel), data=body, content_type="application/json")
    # then both are refused and nothing is kept
    assert (forged.status_code, missing.status_code) == (401, 401)
    assert WebhookEvent.objects.for_workspace(acme).count() == 0
    assert Customer.objects.for_workspace(acme).count() == 0


def test_a_body_over_one_megabyte_is_a_413(acme, channel) -> None:
    body = b"{" + b" " * (1024 * 1024) + b"}"
    response = Client().post(
        _url(channel), data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signature(body)
    )
    assert response.status_code == 413
    assert WebhookEvent.objects.for_workspace(acme).count() == 0


def test_a_message_makes_a_customer_a_conversation_and_a_message(
    acme, channel, django_capture_on_commit_callbacks
) -> None:
    # when Meta posts a text message from a user who shares the phone
    response = _post(channel, _text_message(username="budi.s"), capture=django_capture_on_commit_callbacks)
    # then it answers 200, keeps the event processed, and the customer has the message in one conversation
    assert response.status_code == 200
    event = WebhookEvent.objects.for_workspace(acme).get()
    assert (event.processed_at is not None, event.error) == (True, "")
    customer = Customer.objects.for_workspace(acme).get()
    assert (customer.full_name, customer.phone, customer.source) == (
        "Budi Santoso",
        "+6281298765432",
        "whatsapp",
    )
    identities = ChannelIdentity.objects.for_workspace(acme).filter(customer=customer)
    assert sorted(identities.values_list("kind", "external_id")) == [
        ("id", "ID.1234567890"),
        ("username", "budi.s"),
    ]
    conversation = Conversation.objects.for_workspace(acme).get()
    assert (conversation.channel, conversation.external_id, conversation.messages_count) == (
        "whatsapp",
        "ID.1234567890",
        1,
    )
    message = Message.objects.for_workspace(acme).get()
    assert (message.direction, message.message_type, message.text, message.provider_message_id) == (
        "inbound",
        "text",
        "Halo",
        "wamid.A1",
    )


def test_the_same_payload_twice_stores_one_message(acme, channel, django_capture_on_commit_callbacks) -> None:
    payload = _text_message()
    # when Meta delivers the same payload twice
    first = _post(channel, payload, capture=django_capture_on_commit_callbacks)
    second = _post(channel, payload, capture=django_capture_on_commit_callbacks)
    # then both events are kept, but the message and the customer exist once
    assert (first.status_code, second.status_code) == (200, 200)
    assert WebhookEvent.objects.for_workspace(acme).count() == 2
    assert Message.objects.for_workspace(acme).count() == 1
    assert Customer.objects.for_workspace(acme).count() == 1
    assert Conversation.objects.for_workspace(acme).get().messages_count == 1


def test_a_user_who_hides_the_phone_lands_on_the_same_customer(
    acme, channel, django_capture_on_commit_callbacks
) -> None:
    # given a user first seen with phone and business-scoped id
    _post(channel, _text_message(), capture=django_capture_on_commit_callbacks)
    # when they later write with a username and no phone (no wa_id, no from)
    _post(
        channel,
        _text_message(message_id="wamid.A2", wa_id=None, username="budi.s", text="Masih ada?"),
        capture=django_capture_on_commit_callbacks,
    )
    # then the message is on the same customer and in the same conversation
    customer = Customer.objects.for_workspace(acme).get()
    assert customer.phone == "+6281298765432"
    conversation = Conversation.objects.for_workspace(acme).get()
    assert conversation.messages_count == 2
    assert list(Message.objects.for_workspace(acme).values_list("text", flat=True)) == ["Halo", "Masih ada?"]


def test_an_unknown_message_type_and_field_are_kept_not_a_500(
    acme, channel, django_capture_on_commit_callbacks
) -> None:
    # given a payload with a message type and fields Relasi does not know
    payload = _text_message()
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update({"type": "hologram", "hologram": {"shape": "cube"}, "brand_new_field": [1, 2]})
    del message["text"]
    payload["entry"][0]["changes"][0]["value"]["surprise"] = {"x": 1}
    payload["entry"].append({"id": "1", "changes": [{"field": "account_update", "value": {"event": "X"}}]})
    # when Meta posts it
    response = _post(channel, payload, capture=django_capture_on_commit_callbacks)
    # then it is kept, and the message stored with its type
    assert response.status_code == 200
    event = WebhookEvent.objects.for_workspace(acme).get()
    assert "hologram" in event.body and event.error == ""
    stored = Message.objects.for_workspace(acme).get()
    assert (stored.message_type, stored.text) == ("hologram", "")


def test_a_body_that_is_not_json_is_kept_with_its_error(
    acme, channel, django_capture_on_commit_callbacks
) -> None:
    response = _post(channel, b"not json at all", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    event = WebhookEvent.objects.for_workspace(acme).get()
    assert (event.body, event.error) == ("not json at all", "The body is not JSON.")


def test_a_status_before_its_message_is_applied_when_the_message_arrives(
    acme, alice, channel, client, acme_key, django_capture_on_commit_callbacks
) -> None:
    # given a campaign
    campaign = record_create(
        workspace=acme, actor=alice, kind="campaign", data={"name": "Promo", "template_name": "promo_nov"}
    )
    # when Meta's "delivered" status (with its pricing) arrives before Relasi knows the message
    status = {
        "id": "wamid.OUT1",
        "status": "delivered",
        "timestamp": "1764300100",
        "recipient_id": "6281298765432",
        "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing"},
    }
    _post(channel, _value(statuses=[status]), capture=django_capture_on_commit_callbacks)
    # then it is kept pending
    assert list(PendingDeliveryStatus.objects.for_workspace(acme).values_list("status", flat=True)) == [
        "delivered"
    ]
    # when the sender reports the campaign message through the event API
    response = client.post(
        "/api/v1/events",
        data={
            "events": [
                {
                    "id": "out-1",
                    "type": "message",
                    "message": {
                        "contact": {"phone": "081298765432"},
                        "channel": "whatsapp",
                        "direction": "outbound",
                        "type": "template",
                        "provider_message_id": "wamid.OUT1",
                        "campaign_id": campaign.pk,
                    },
                }
            ]
        },
        content_type="application/json",
        **acme_key,
    )
    # then the recipient is delivered, with the pricing category, and nothing is pending
    assert response.json()["results"][0]["status"] == "created"
    recipient = CampaignRecipient.objects.for_workspace(acme).get()
    assert (recipient.status, recipient.pricing_category, recipient.provider_message_id) == (
        "delivered",
        "marketing",
        "wamid.OUT1",
    )
    assert PendingDeliveryStatus.objects.for_workspace(acme).count() == 0
    # and a later "read" applies at once, an older "sent" does not go back
    read = {**status, "status": "read", "timestamp": "1764300200"}
    sent = {**status, "status": "sent", "timestamp": "1764300000"}
    _post(channel, _value(statuses=[read, sent]), capture=django_capture_on_commit_callbacks)
    recipient.refresh_from_db()
    assert recipient.status == "read"


def test_another_workspace_is_never_touched(
    acme, globex, channel, globex_channel, django_capture_on_commit_callbacks
) -> None:
    # given the same user already a customer of globex (through globex's own number)
    globex_payload = _text_message()
    globex_payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "222222222222222"
    _post(globex_channel, globex_payload, secret="globex-secret", capture=django_capture_on_commit_callbacks)
    # when acme's URL receives a payload signed with globex's secret, and then a good one
    body = json.dumps(_text_message(message_id="wamid.A9")).encode()
    forged = Client().post(
        _url(channel),
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=_signature(body, "globex-secret"),
    )
    _post(channel, _text_message(message_id="wamid.A9"), capture=django_capture_on_commit_callbacks)
    # then the forged one is refused; acme gets its own customer; globex's customer is untouched
    assert forged.status_code == 401
    assert Customer.objects.for_workspace(acme).count() == 1
    assert Customer.objects.for_workspace(globex).count() == 1
    assert list(Message.objects.for_workspace(globex).values_list("provider_message_id", flat=True)) == [
        "wamid.A1"
    ]
    assert list(Message.objects.for_workspace(acme).values_list("provider_message_id", flat=True)) == [
        "wamid.A9"
    ]
    assert WebhookEvent.objects.for_workspace(globex).count() == 1


def test_a_change_for_another_number_is_kept_but_not_applied(
    globex, globex_channel, django_capture_on_commit_callbacks
) -> None:
    # when globex's URL receives, correctly signed, a change whose metadata names another number
    _post(globex_channel, _text_message(), secret="globex-secret", capture=django_capture_on_commit_callbacks)
    # then the event is kept with the reason, and nothing is applied
    event = WebhookEvent.objects.for_workspace(globex).get()
    assert event.error == "A change for phone number id 106540352242922, not this channel's: skipped."
    assert Customer.objects.for_workspace(globex).count() == 0
