"""What ingestion wrote in a workspace, comparable with another workspace's: ids replaced by their rank."""

from __future__ import annotations

import re
from typing import Any

from relasi.core.models import AuditLog
from relasi.customers.models import ChannelIdentity, ContactClaim, Customer, TimelineEntry
from relasi.interactions.models import Conversation, ConversationCustomer, Message
from relasi.tenancy.models import Workspace


def ranks(rows: Any) -> dict[int, int]:
    return {pk: rank for rank, pk in enumerate(rows.order_by("pk").values_list("pk", flat=True))}


def ingestion_state(workspace: Workspace) -> dict[str, Any]:
    """Everything ingestion writes, with ids replaced by their rank in the workspace (the two differ only there)."""
    customers = Customer.objects.for_workspace(workspace)
    conversations = Conversation.objects.for_workspace(workspace)
    customer_rank = ranks(customers)
    conversation_rank = ranks(conversations)
    members: dict[int, list[int]] = {}
    for record_id, customer_id in ConversationCustomer.objects.for_workspace(workspace).values_list(
        "record_id", "customer_id"
    ):
        members.setdefault(conversation_rank[record_id], []).append(customer_rank[customer_id])

    def plain(value: Any) -> Any:
        # Ids inside audit changes and timeline summaries: a customer by rank, a conversation's title without id.
        if isinstance(value, dict):
            return {
                key: [customer_rank.get(item, item) for item in item_list]
                if key in ("customer", "customers") and isinstance(item_list := value[key], list)
                else plain(value[key])
                for key in value
            }
        if isinstance(value, str):
            return re.sub(r"#\d+", "#", value)
        return value

    target_rank = {"customers.customer": customer_rank, "interactions.conversation": conversation_rank}
    audit: dict[tuple[str, int], list[tuple[str, Any]]] = {}
    for row in AuditLog.objects.filter(workspace=workspace).order_by("pk"):
        key = (row.target_type, target_rank.get(row.target_type, {}).get(int(row.target_id), -1))
        audit.setdefault(key, []).append((row.action, plain(row.changes)))
    timeline: dict[int, list[tuple[Any, ...]]] = {}
    for entry in TimelineEntry.objects.for_workspace(workspace).order_by("pk"):
        record = conversation_rank.get(entry.record_id) if entry.record_kind == "conversation" else None
        timeline.setdefault(customer_rank[entry.customer_id], []).append(
            (entry.action, entry.record_kind, record, plain(entry.summary), entry.actor_label)
        )
    return {
        "customers": list(
            customers.order_by("pk").values_list(
                "full_name", "phone", "phone_raw", "email", "source", "deleted_at"
            )
        ),
        "identities": sorted(
            (customer_rank[customer_id], channel, kind, value)
            for customer_id, channel, kind, value in ChannelIdentity.objects.for_workspace(
                workspace
            ).values_list("customer_id", "channel", "kind", "external_id")
        ),
        "claims": sorted(
            (kind, value, customer_rank[customer_id])
            for kind, value, customer_id in ContactClaim.objects.for_workspace(workspace).values_list(
                "kind", "value", "customer_id"
            )
        ),
        "conversations": [
            (
                row.channel,
                row.external_id,
                row.status,
                row.messages_count,
                row.last_message_at,
                sorted(members[rank]),
            )
            for rank, row in enumerate(conversations.order_by("pk"))
        ],
        "messages": [
            (
                conversation_rank[row.conversation_id],
                row.direction,
                row.text,
                row.sent_at,
                row.provider_message_id,
            )
            for row in Message.objects.for_workspace(workspace).order_by("pk")
        ],
        "audit": audit,
        "timeline": timeline,
    }
