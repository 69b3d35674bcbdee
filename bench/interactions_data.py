"""The busy customer of the interactions benchmark: one customer of the list workspace ("bench", a million
customers) with 10,000 interactions and a timeline of 50,000 lines, written in bulk (not through the services, which
would take an hour); made once and reused."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.common import Log
from bench.dataset import LIST_SLUG
from relasi.customers.models import Customer, TimelineEntry
from relasi.interactions.models import (
    Conversation,
    ConversationCustomer,
    Deal,
    DealCustomer,
    Message,
    Pipeline,
    Task,
    TaskCustomer,
    Ticket,
    TicketCustomer,
)
from relasi.tenancy.models import Workspace

BUSY_EMAIL = "busy.customer@bench.relasi.test"
INTERACTIONS = 10_000
TIMELINE = 50_000
BATCH = 2_000
# The 10,000 interactions: conversations (each with a few messages), tickets, deals and tasks.
SHARES = {"conversation": 4_000, "ticket": 2_000, "deal": 2_000, "task": 2_000}
MESSAGES_PER_CONVERSATION = 3


@dataclass(frozen=True)
class BusyCustomer:
    customer: Customer
    interactions: int
    timeline: int
    generation_seconds: float


def busy_customer_present() -> bool:
    workspace = Workspace.objects.filter(slug=LIST_SLUG).first()
    return (
        workspace is not None and Customer.objects.for_workspace(workspace).filter(email=BUSY_EMAIL).exists()
    )


def ensure_busy_customer(*, workspace: Workspace, log: Log) -> BusyCustomer:
    customer = Customer.objects.for_workspace(workspace).filter(email=BUSY_EMAIL).first()
    if customer is not None:
        timeline = TimelineEntry.objects.for_workspace(workspace).filter(customer=customer).count()
        if timeline >= TIMELINE:
            log(f"Reusing the busy customer {customer.pk} ({timeline:,} timeline lines).")
            _analyze()
            return BusyCustomer(customer, INTERACTIONS, timeline, 0.0)
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        if customer is None:
            customer = Customer.objects.for_workspace(workspace).create(
                full_name="Busy Customer", email=BUSY_EMAIL, created_at=now, updated_at=now
            )
        log(
            f"Writing {INTERACTIONS:,} interactions and {TIMELINE:,} timeline lines for customer {customer.pk}..."
        )
        _records(workspace=workspace, customer=customer, now=now)
        _timeline(workspace=workspace, customer=customer, now=now)
    _analyze()
    seconds = round(time.perf_counter() - started, 1)
    log(f"  written in {seconds} s")
    return BusyCustomer(customer, INTERACTIONS, TIMELINE, seconds)


def _records(*, workspace: Workspace, customer: Customer, now: datetime) -> None:
    stages = {
        kind: Pipeline.objects.for_workspace(workspace).filter(kind=kind).prefetch_related("stages").first()
        for kind in ("ticket", "deal", "task")
    }
    conversations = Conversation.objects.for_workspace(workspace).bulk_create(
        [
            Conversation(
                workspace=workspace,
                channel="whatsapp",
                status=["open", "pending", "resolved"][n % 3],
                subject=f"Chat {n}",
                messages_count=MESSAGES_PER_CONVERSATION,
                last_message_at=now - timedelta(minutes=n),
                created_at=now - timedelta(minutes=n),
                updated_at=now - timedelta(minutes=n),
            )
            for n in range(SHARES["conversation"])
        ],
        batch_size=BATCH,
    )
    Message.objects.for_workspace(workspace).bulk_create(
        [
            Message(
                workspace=workspace,
                conversation=conversation,
                direction="inbound" if m % 2 == 0 else "outbound",
                text=f"Message {m}",
                sent_at=now - timedelta(minutes=n, seconds=m),
            )
            for n, conversation in enumerate(conversations)
            for m in range(MESSAGES_PER_CONVERSATION)
        ],
        batch_size=BATCH,
    )
    ConversationCustomer.objects.for_workspace(workspace).bulk_create(
        [ConversationCustomer(workspace=workspace, customer=customer, record=row) for row in conversations],
        batch_size=BATCH,
    )
    kinds: list[tuple[str, Any, Any, str]] = [
        ("ticket", Ticket, TicketCustomer, "title"),
        ("deal", Deal, DealCustomer, "name"),
        ("task", Task, TaskCustomer, "title"),
    ]
    for kind, model, association, title in kinds:
        pipeline = stages[kind]
        assert pipeline is not None
        stage_list = list(pipeline.stages.all())
        rows = model.objects.for_workspace(workspace).bulk_create(
            [
                model(
                    workspace=workspace,
                    pipeline=pipeline,
                    stage=stage_list[n % len(stage_list)],
                    priority=["low", "medium", "high", "urgent"][n % 4],
                    created_at=now - timedelta(minutes=n),
                    updated_at=now - timedelta(minutes=n),
                    **{title: f"{kind.title()} {n}"},
                )
                for n in range(SHARES[kind])
            ],
            batch_size=BATCH,
        )
        association.objects.for_workspace(workspace).bulk_create(
            [association(workspace=workspace, customer=customer, record=row) for row in rows],
            batch_size=BATCH,
        )


def _timeline(*, workspace: Workspace, customer: Customer, now: datetime) -> None:
    actions = ["message.received", "ticket.updated", "deal.updated", "task.created", "customer.updated"]
    TimelineEntry.objects.for_workspace(workspace).bulk_create(
        [
            TimelineEntry(
                workspace=workspace,
                customer=customer,
                at=now - timedelta(seconds=n),
                actor_label="bench",
                action=actions[n % len(actions)],
                record_kind=actions[n % len(actions)].split(".")[0],
                record_id=n,
                summary={"title": f"Line {n}"},
            )
            for n in range(TIMELINE)
        ],
        batch_size=BATCH,
    )


def _analyze() -> None:
    """Fresh statistics for the tables written in bulk, as autovacuum would give them after a while: without them
    the planner takes 10,000 associations for one and joins them row by row."""
    tables = [
        TimelineEntry._meta.db_table,
        *(
            model._meta.db_table
            for model in (
                Conversation,
                ConversationCustomer,
                Message,
                Ticket,
                TicketCustomer,
                Deal,
                DealCustomer,
            )
        ),
        Task._meta.db_table,
        TaskCustomer._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
