"""Sample interactions for the demo workspace: a few of every kind on the first customers, so every tab of the
customer page and every list has something to show, and one pair of possible duplicates to merge."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction

from relasi.accounts.models import User
from relasi.customers.identity import Identifiers, customer_resolve
from relasi.customers.models import Customer
from relasi.interactions.models import CampaignRecipient, Conversation, DeliveryStatus, Direction
from relasi.interactions.services import message_add, record_create
from relasi.tenancy.models import Workspace

TICKET_TITLES = [
    "Refund not received",
    "Wrong size delivered",
    "Cannot log in to the member app",
    "Invoice copy",
]
DEAL_NAMES = ["Annual membership", "Corporate gifts 200 pcs", "Reseller package", "Catering for 50"]
TASK_TITLES = ["Call back about the order", "Send the price list", "Confirm the delivery address"]
COMPANIES = [("PT Maju Bersama", "majubersama.co.id", "Retail"), ("CV Sinar Jaya", "sinarjaya.id", "Food")]
MESSAGES = [
    (Direction.INBOUND, "Halo, pesanan saya belum sampai."),
    (Direction.OUTBOUND, "Baik Kak, kami cek dulu ya."),
    (Direction.INBOUND, "Terima kasih!"),
]


def interactions_create_sample(
    *, workspace: Workspace, actor: User, members: Sequence[User], now: datetime, seed: int
) -> int:
    """Sample records on the workspace's first customers, once: nothing when it has conversations already.
    Returns how many records were made."""
    if Conversation.objects.for_workspace(workspace).exists():
        return 0
    customers = list(
        Customer.objects.for_workspace(workspace).filter(deleted_at__isnull=True).order_by("pk")[:12]
    )
    if not customers:
        return 0
    chance = random.Random(seed)
    made = 0
    with transaction.atomic():
        for index, customer in enumerate(customers):
            person = members[index % len(members)]
            made += _conversation(
                workspace=workspace, actor=actor, customer=customer, person=person, now=now, index=index
            )
            if index % 2 == 0:
                record_create(
                    workspace=workspace,
                    actor=actor,
                    kind="ticket",
                    data={
                        "title": TICKET_TITLES[index % len(TICKET_TITLES)],
                        "assignee": person.pk,
                        "reporter": actor.pk,
                        "priority": chance.choice(["low", "medium", "high", "urgent"]),
                        "due_at": (now + timedelta(hours=chance.choice([-5, 2, 30]))).isoformat(),
                    },
                    customer_ids=[customer.pk],
                )
                made += 1
            if index % 3 == 0:
                record_create(
                    workspace=workspace,
                    actor=actor,
                    kind="deal",
                    data={
                        "name": DEAL_NAMES[index % len(DEAL_NAMES)],
                        "amount": chance.choice([1_500_000, 7_500_000, 25_000_000]),
                        "owner": person.pk,
                        "approval_status": chance.choice(["none", "waiting", "approved"]),
                        "expected_close_date": (now + timedelta(days=30)).date().isoformat(),
                    },
                    customer_ids=[customer.pk],
                )
                record_create(
                    workspace=workspace,
                    actor=actor,
                    kind="task",
                    data={"title": TASK_TITLES[index % len(TASK_TITLES)], "assignee": person.pk},
                    customer_ids=[customer.pk],
                )
                made += 2
        for name, domain, industry in COMPANIES:
            record_create(
                workspace=workspace,
                actor=actor,
                kind="company",
                data={"name": name, "domain": domain, "industry": industry, "size": "11-50"},
                customer_ids=[customer.pk for customer in customers[:3]],
            )
            made += 1
        made += _campaigns(workspace=workspace, actor=actor, customers=customers, now=now)
        _possible_duplicate(workspace=workspace, customer=customers[0])
    return made


def _conversation(
    *, workspace: Workspace, actor: User, customer: Customer, person: User, now: datetime, index: int
) -> int:
    conversation = record_create(
        workspace=workspace,
        actor=actor,
        kind="conversation",
        data={
            "channel": customer.source or "whatsapp",
            "status": ["open", "pending", "resolved"][index % 3],
            "subject": f"Chat with {customer.full_name}",
            "assignee": person.pk,
        },
        customer_ids=[customer.pk],
    )
    for minute, (direction, text) in enumerate(MESSAGES):
        message_add(
            workspace=workspace,
            actor=person if direction == Direction.OUTBOUND else None,
            conversation_id=conversation.pk,
            direction=direction,
            text=text,
            sent_at=now - timedelta(hours=index, minutes=10 - minute),
        )
    return 1


def _campaigns(*, workspace: Workspace, actor: User, customers: Sequence[Customer], now: datetime) -> int:
    # One recent broadcast and one older than a year: the customer page shows only the first.
    for name, template, age in (("November promo", "promo_nov", 20), ("Last year's promo", "promo_old", 400)):
        campaign = record_create(
            workspace=workspace,
            actor=actor,
            kind="campaign",
            data={
                "name": name,
                "template_name": template,
                "sent_at": (now - timedelta(days=age)).isoformat(),
            },
            customer_ids=[customer.pk for customer in customers],
        )
        CampaignRecipient.objects.for_workspace(workspace).filter(record_id=campaign.pk).update(
            status=DeliveryStatus.READ
        )
    return 2


def _possible_duplicate(*, workspace: Workspace, customer: Customer) -> None:
    """A WhatsApp contact known by its id only, then an event naming that id and the first customer's phone: two
    customers one event pointed at, flagged for a person to merge."""
    other = customer_resolve(
        workspace=workspace,
        actor=None,
        # The name people give themselves on WhatsApp, not the one the business typed.
        identifiers=Identifiers(
            channel="whatsapp",
            external_id="DEMO.WA.1",
            full_name=f"{customer.full_name.split()[0]} (WhatsApp)",
        ),
    ).customer
    if customer.phone and other.pk != customer.pk:
        customer_resolve(
            workspace=workspace,
            actor=None,
            identifiers=Identifiers(channel="whatsapp", external_id="DEMO.WA.1", phone=customer.phone),
        )
