"""Connecting a WhatsApp number: `relasi channel add whatsapp`, and Settings › Channels (owners and admins)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from relasi.core.models import AuditLog
from relasi.interactions.channels import whatsapp_channel_add
from relasi.interactions.models import WhatsAppChannel

pytestmark = pytest.mark.django_db


def _add(*arguments: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("channel", "add", "whatsapp", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_connects_a_number_and_prints_the_webhook_url_last(acme, settings) -> None:
    settings.RELASI_SITE_URL = "https://crm.example.co.id"
    # when the command connects a number to acme
    out, _err = _add(
        "--workspace",
        "acme",
        "--phone-number-id",
        "106540352242922",
        "--app-secret",
        "s3cret",
        "--verify-token",
        "verify-me",
    )
    # then the channel exists and the last line is its webhook URL on the site's address
    channel = WhatsAppChannel.objects.for_workspace(acme).get()
    assert out.strip().splitlines()[-1] == f"https://crm.example.co.id/hooks/whatsapp/{channel.url_token}"
    assert len(channel.url_token) >= 40
    assert (channel.phone_number_id, channel.app_secret, channel.verify_token) == (
        "106540352242922",
        "s3cret",
        "verify-me",
    )
    assert "s3cret" not in out
    assert AuditLog.objects.filter(action="channel.connected", workspace=acme).count() == 1


def test_the_command_refuses_an_unknown_workspace_a_bad_id_and_a_number_already_connected(
    acme, globex
) -> None:
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        _add(
            "--workspace",
            "nope",
            "--phone-number-id",
            "1065403522",
            "--app-secret",
            "s",
            "--verify-token",
            "v",
        )
    with pytest.raises(CommandError, match="phone_number_id: Write the phone number id Meta shows"):
        _add(
            "--workspace", "acme", "--phone-number-id", "+62 811", "--app-secret", "s", "--verify-token", "v"
        )
    _add("--workspace", "acme", "--phone-number-id", "1065403522", "--app-secret", "s", "--verify-token", "v")
    with pytest.raises(CommandError, match="already connected"):
        _add(
            "--workspace",
            "globex",
            "--phone-number-id",
            "1065403522",
            "--app-secret",
            "s",
            "--verify-token",
            "v",
        )
    assert WhatsAppChannel.objects.for_workspace(globex).count() == 0


def _page(slug: str = "acme") -> str:
    return f"/app/{slug}/settings/channels/"


FORM = {
    "phone_number_id": "106540352242922",
    "display_phone_number": "+62 811-0000-0000",
    "app_secret": "s3cret-app",
    "verify_token": "verify-me",
}


def test_an_owner_lists_adds_and_removes_channels_and_never_sees_the_secret_again(
    acme, alice, client_for
) -> None:
    client = client_for(alice)
    # when alice connects a number
    added = client.post(_page(), FORM)
    # then she is sent back to the list, which shows the URL but never the app secret
    assert added.status_code == 302
    channel = WhatsAppChannel.objects.for_workspace(acme).get()
    page = client.get(_page())
    assert page.status_code == 200
    assert f"/hooks/whatsapp/{channel.url_token}" in page.content.decode()
    assert "s3cret-app" not in page.content.decode()
    # when she sends a channel id that is no id, nothing is removed
    assert client.post(f"{_page()}remove/", {"channel_id": "1 OR 1=1"}).status_code == 404
    assert WhatsAppChannel.objects.for_workspace(acme).count() == 1
    # when she removes it
    removed = client.post(f"{_page()}remove/", {"channel_id": channel.pk})
    assert removed.status_code == 302
    assert WhatsAppChannel.objects.for_workspace(acme).count() == 0


def test_the_form_shows_field_errors(acme, alice, client_for) -> None:
    response = client_for(alice).post(_page(), {**FORM, "phone_number_id": "abc"})
    assert response.status_code == 400
    assert (
        "Write the phone number id Meta shows (digits only), not the phone number."
        in response.content.decode()
    )
    assert WhatsAppChannel.objects.for_workspace(acme).count() == 0


def test_an_admin_may_connect_too(acme, dave, client_for) -> None:
    assert client_for(dave).post(_page(), FORM).status_code == 302


def test_an_agent_is_refused_and_nothing_changes(acme, alice, bob, client_for) -> None:
    channel = whatsapp_channel_add(
        workspace=acme, actor=alice, phone_number_id="1065403522", app_secret="s", verify_token="v"
    )
    client = client_for(bob)
    # when bob, an agent, opens the page, posts the form, or removes the channel
    responses = [
        client.get(_page()),
        client.post(_page(), FORM),
        client.post(f"{_page()}remove/", {"channel_id": channel.pk}),
    ]
    # then each is a 403 and the one channel stays
    assert [response.status_code for response in responses] == [403, 403, 403]
    assert list(WhatsAppChannel.objects.for_workspace(acme)) == [channel]
    # and the settings menu has no link to the page
    assert "/settings/channels/" not in client.get("/app/acme/settings/members/").content.decode()


def test_an_outsider_gets_404_and_cannot_remove_another_workspace_channel(
    acme, alice, globex, charlie, client_for
) -> None:
    channel = whatsapp_channel_add(
        workspace=acme, actor=alice, phone_number_id="1065403522", app_secret="s", verify_token="v"
    )
    client = client_for(charlie)
    # when charlie opens acme's page, or names acme's channel under his own workspace
    foreign_page = client.get(_page())
    foreign_remove = client.post(f"{_page('globex')}remove/", {"channel_id": channel.pk})
    # then both are not found and the channel stays
    assert (foreign_page.status_code, foreign_remove.status_code) == (404, 404)
    assert WhatsAppChannel.objects.for_workspace(acme).count() == 1
