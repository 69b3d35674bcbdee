"""A WhatsApp webhook job applies the workspace's other waiting events with its own, together: the same customers,
conversations, messages, statuses, audit rows and timeline lines as one job per event, in a few queries."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relasi.interactions import channels_whatsapp, tasks, webhook_jobs
from relasi.interactions.channels import webhook_event_receive, whatsapp_channel_add
from relasi.interactions.channels_whatsapp import webhook_event_process
from relasi.interactions.models import Message, WebhookEvent
from relasi.tenancy.services import workspace_create
from tests.interactions.ingestion_state import ingestion_state

pytestmark = pytest.mark.django_db


def _payload(rng: random.Random, number: int, phone_number_id: str) -> dict[str, Any]:
    person = rng.randrange(6)
    contact: dict[str, Any] = {"profile": {"name": f"Orang {person}"}, "user_id": f"ID.{person}"}
    message: dict[str, Any] = {
        "from_user_id": f"ID.{person}",
        "id": f"wamid.{rng.randrange(40)}",
        "timestamp": str(1764300000 + number),
        "type": rng.choice(["text", "text", "image", "sticker"]),
        "text": {"body": f"Halo {number}"},
    }
    if person % 3:  # some people share their phone, the others hide it
        contact["wa_id"] = message["from"] = f"62812000000{person}"
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": phone_number_id},
        "contacts": [contact],
        "messages": [message],
    }
    if rng.random() < 0.2:
        # an id no column can hold: noted on the event, the rest applied
        value["messages"].append({**message, "id": "w" * 300})
    if rng.random() < 0.2:
        value["statuses"] = [{"id": f"wamid.out.{person}", "status": "delivered", "timestamp": "1764300100"}]
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"value": value}]}]}


def _without_channels(state: dict[str, Any]) -> dict[str, Any]:
    # Each workspace's number has its own id: the audit row of its connection differs, and is not ingestion's.
    state["audit"] = {
        key: rows for key, rows in state["audit"].items() if key[0] != "interactions.whatsappchannel"
    }
    return state


@pytest.mark.parametrize("seed", range(8))
def test_one_job_for_many_waiting_events_writes_what_one_job_per_event_writes(alice, seed: int) -> None:
    # given two workspaces, each with a WhatsApp number, and 30 webhook payloads from six people (some hiding the
    # phone, some messages redelivered, some without a sender, some with statuses)
    together = workspace_create(name="Together", slug=f"together-{seed}", owner=alice, actor=alice)
    apart = workspace_create(name="Apart", slug=f"apart-{seed}", owner=alice, actor=alice)
    channels = {
        workspace.pk: whatsapp_channel_add(
            workspace=workspace,
            actor=alice,
            phone_number_id=f"10654035224{seed}{index}",
            app_secret="secret",
            verify_token="verify",
        )
        for index, workspace in enumerate((together, apart))
    }
    rng = random.Random(seed)
    payloads = [_payload(rng, number, "") for number in range(30)]
    # when the first workspace stores all 30 before its first job runs
    stored = [
        webhook_event_receive(channel=channels[together.pk], body=json.dumps(payload).encode())
        for payload in payloads
    ]
    with CaptureQueriesContext(connection) as queries:
        webhook_event_process(workspace_id=together.pk, event_id=stored[0].pk)
    # and the second runs each event's job as it arrives
    for payload in payloads:
        event = webhook_event_receive(channel=channels[apart.pk], body=json.dumps(payload).encode())
        webhook_event_process(workspace_id=apart.pk, event_id=event.pk)
    # then the one job processed every event, with far fewer queries than events
    events = WebhookEvent.objects.for_workspace(together).order_by("pk")
    assert events.filter(processed_at__isnull=True).count() == 0
    assert len(queries.captured_queries) < 120
    # and both workspaces hold the same rows, and the events the same notes
    assert _without_channels(ingestion_state(together)) == _without_channels(ingestion_state(apart))
    notes = list(events.values_list("error", flat=True))
    assert notes == list(
        WebhookEvent.objects.for_workspace(apart).order_by("pk").values_list("error", flat=True)
    )
    assert any("too long" in note for note in notes) == any(
        len(payload["entry"][0]["changes"][0]["value"]["messages"]) > 1 for payload in payloads
    )
    # and a later job of an event already taken finds it processed and changes nothing
    before = Message.objects.for_workspace(together).count()
    webhook_event_process(workspace_id=together.pk, event_id=stored[-1].pk)
    assert Message.objects.for_workspace(together).count() == before


def _store(workspace: Any, channel: Any, count: int, *, start: int = 0) -> list[WebhookEvent]:
    rng = random.Random(start)
    return [
        webhook_event_receive(channel=channel, body=json.dumps(_payload(rng, start + n, "")).encode())
        for n in range(count)
    ]


@pytest.fixture
def acme_channel(acme, alice):
    return whatsapp_channel_add(
        workspace=acme, actor=alice, phone_number_id="106540352242999", app_secret="s", verify_token="v"
    )


def test_a_burst_of_posts_queues_one_drain_job_and_it_applies_them_all(
    acme, acme_channel, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # given a drain job queued for acme and not started yet (its flag is set); the queue's jobs are recorded
    queued: list[int] = []
    monkeypatch.setattr(
        tasks.webhook_events_drain_task, "apply_async", lambda args, countdown: queued.append(args[0])
    )
    assert webhook_jobs.webhook_events_drain_request(workspace_id=acme.pk) is True
    # when a burst of five POSTs is stored (their commit callbacks run)
    with django_capture_on_commit_callbacks(execute=True):
        stored = _store(acme, acme_channel, 5)
    # then no other job was queued, and the five wait
    assert queued == [acme.pk]
    assert WebhookEvent.objects.for_workspace(acme).filter(processed_at__isnull=True).count() == 5
    # when the queued job runs
    applied = webhook_jobs.webhook_events_drain(workspace_id=acme.pk)
    # then it applied all five, and the next POST queues a job again
    assert applied == 5
    assert WebhookEvent.objects.for_workspace(acme).filter(processed_at__isnull=True).count() == 0
    assert Message.objects.for_workspace(acme).count() >= 1
    with django_capture_on_commit_callbacks(execute=True):
        _store(acme, acme_channel, 1, start=len(stored))
    assert queued == [acme.pk, acme.pk]


def test_a_drain_job_applies_more_than_one_round(acme, acme_channel, monkeypatch) -> None:
    # given rounds of three events, and eight events waiting
    monkeypatch.setattr(channels_whatsapp, "JOB_EVENTS_MAX", 3)
    monkeypatch.setattr(webhook_jobs, "JOB_EVENTS_MAX", 3)
    _store(acme, acme_channel, 8)
    # when the drain job runs
    applied = webhook_jobs.webhook_events_drain(workspace_id=acme.pk)
    # then every event is applied, in three rounds of one job
    assert applied == 8
    assert WebhookEvent.objects.for_workspace(acme).filter(processed_at__isnull=True).count() == 0


def test_the_recovery_queues_a_job_for_events_waiting_too_long(
    acme, globex, acme_channel, monkeypatch, settings
) -> None:
    # given an acme event waiting for ten minutes (its job lost) and one stored just now
    queued: list[int] = []
    monkeypatch.setattr(tasks.webhook_events_drain_task, "delay", queued.append)
    [old, _new] = _store(acme, acme_channel, 2)
    WebhookEvent.objects.for_workspace(acme).filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    settings.WEBHOOK_EVENTS_STALLED_SECONDS = 300
    # when the recovery runs
    recovered = webhook_jobs.webhook_events_recover()
    # then acme's drain job is queued (whatever its flag says), and no other workspace's
    assert recovered == [acme.pk]
    assert queued == [acme.pk]
