"""Reads of interaction records: a record, the records of a customer (a tab of the customer's page, with its
filters), the activity counts, the SLA status of tickets, and the search of the association picker."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from relasi.core.pagination import Page, keyset_page
from relasi.customers.models import Customer
from relasi.interactions.filters import KIND_FILTERS, SlaStatus, TabFilters
from relasi.interactions.kinds import kind_spec
from relasi.interactions.models import Conversation, Kind, Message, Pipeline, Record
from relasi.tenancy.models import Workspace

# A ticket is "at risk" when less than this is left before its due time.
SLA_AT_RISK = timedelta(hours=4)
# The campaigns tab shows what was sent in the last twelve months; older campaigns stay in the database.
CAMPAIGN_TAB_PERIOD = timedelta(days=365)
PICKER_LIMIT = 20
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The column every association table names its record by (each concrete table has its own foreign key).
RECORD_ID = "record_id"


def sla_status(*, due_at: datetime | None, resolved_at: datetime | None, now: datetime | None = None) -> str:
    """On time, at risk or breached: a ticket is breached when it was resolved after its due time, or is still
    open past it; at risk when open and due within SLA_AT_RISK; on time otherwise (no due time included)."""
    if due_at is None:
        return SlaStatus.ON_TIME
    if resolved_at is not None:
        return SlaStatus.BREACHED if resolved_at > due_at else SlaStatus.ON_TIME
    moment = now or timezone.now()
    if moment > due_at:
        return SlaStatus.BREACHED
    return SlaStatus.AT_RISK if due_at - moment <= SLA_AT_RISK else SlaStatus.ON_TIME


def sla_condition(status: str, *, now: datetime) -> Q:
    """The tickets of an SLA status, as a query condition (the same rule as `sla_status`)."""
    open_ = Q(resolved_at__isnull=True)
    if status == SlaStatus.BREACHED:
        return Q(resolved_at__gt=F("due_at")) | (open_ & Q(due_at__lt=now))
    if status == SlaStatus.AT_RISK:
        return open_ & Q(due_at__gte=now, due_at__lte=now + SLA_AT_RISK)
    return (
        Q(due_at__isnull=True) | Q(resolved_at__lte=F("due_at")) | (open_ & Q(due_at__gt=now + SLA_AT_RISK))
    )


def record_get(*, workspace: Workspace, kind: str, record_id: int) -> Record:
    record = kind_spec(kind).model.objects.for_workspace(workspace).filter(pk=record_id).first()
    if record is None:
        raise Http404
    return record


def records_page(
    *,
    workspace: Workspace,
    kind: str,
    filters: TabFilters | None = None,
    customer: Customer | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Page[Record]:
    """One page of the workspace's records of `kind` (or of one customer's: a tab), most recently changed first,
    with the kind's filters; InvalidCursor for a cursor of another list."""
    moment = now or timezone.now()
    if customer is not None:
        rows = customer_records(
            workspace=workspace, customer=customer, kind=kind, filters=filters, now=moment
        )
    else:
        model = kind_spec(kind).model
        rows = _filtered(
            model.objects.for_workspace(workspace), kind=kind, filters=filters or TabFilters(), now=moment
        )
    scope = repr((workspace.pk, kind, customer.pk if customer else None, filters or TabFilters()))
    return keyset_page(
        rows,
        ordering=["-updated_at", "-id"],
        cursor=cursor,
        limit=max(1, min(limit, MAX_PAGE_SIZE)),
        scope=scope,
    )


def conversation_messages_page(
    *, workspace: Workspace, conversation: Conversation, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page[Message]:
    """A conversation's messages, oldest first (as a chat reads)."""
    rows = Message.objects.for_workspace(workspace).filter(conversation=conversation).select_related("author")
    return keyset_page(
        rows,
        ordering=["sent_at", "id"],
        cursor=cursor,
        limit=max(1, min(limit, MAX_PAGE_SIZE)),
        scope=f"messages:{workspace.pk}:{conversation.pk}",
    )


def pipelines_of_kind(*, workspace: Workspace, kind: str) -> list[Pipeline]:
    """The workspace's pipelines for tickets, deals or tasks, each with its stages in order (for forms and
    filters)."""
    return list(
        Pipeline.objects.for_workspace(workspace)
        .filter(kind=kind)
        .prefetch_related("stages")
        .order_by("position", "id")
    )


def record_customer_ids(*, workspace: Workspace, kind: str, record_id: int) -> list[int]:
    """The customers a record concerns."""
    association = kind_spec(kind).association
    return list(
        association.objects.for_workspace(workspace)
        .filter(Q(record_id=record_id))
        .values_list("customer_id", flat=True)
    )


def record_customers(
    *, workspace: Workspace, kind: str, record_id: int, limit: int = PAGE_SIZE
) -> list[Customer]:
    """The live customers a record concerns, by name (the record page's list; deleted ones are left out as the
    customers list leaves them out)."""
    association = kind_spec(kind).association
    ids = association.objects.for_workspace(workspace).filter(Q(record_id=record_id)).values("customer_id")
    return list(
        Customer.objects.for_workspace(workspace)
        .filter(pk__in=ids, deleted_at__isnull=True)
        .order_by("full_name", "id")[: max(1, min(limit, MAX_PAGE_SIZE))]
    )


def customer_records(
    *,
    workspace: Workspace,
    customer: Customer,
    kind: str,
    filters: TabFilters | None = None,
    now: datetime | None = None,
) -> QuerySet[Record]:
    """The records of `kind` associated with the customer, most recently changed first, as a tab lists them."""
    spec = kind_spec(kind)
    moment = now or timezone.now()
    rows = spec.model.objects.for_workspace(workspace).filter(
        pk__in=spec.association.objects.for_workspace(workspace).filter(customer=customer).values(RECORD_ID)
    )
    if kind == Kind.CAMPAIGN:
        rows = rows.filter(Q(sent_at__gte=moment - CAMPAIGN_TAB_PERIOD))
    return _filtered(rows, kind=kind, filters=filters or TabFilters(), now=moment).order_by(
        "-updated_at", "-id"
    )


def _filtered(rows: QuerySet[Record], *, kind: str, filters: TabFilters, now: datetime) -> QuerySet[Record]:
    offered = KIND_FILTERS[kind]
    for name in ("status", "channel", "priority", "approval_status"):
        values = getattr(filters, name)
        if name in offered and values:
            rows = rows.filter(**{f"{name}__in": values})
    for name in ("pipeline", "stage", "reporter", "assignee", "owner"):
        values = getattr(filters, name)
        if name in offered and values:
            rows = rows.filter(**{f"{name}_id__in": values})
    if "sla" in offered and filters.sla:
        condition = Q()
        for status in filters.sla:
            condition |= sla_condition(status, now=now)
        rows = rows.filter(condition)
    return rows


def customer_activity_counts(*, workspace: Workspace, customer: Customer) -> dict[str, int]:
    """The activity log of the customer's page: how many chats, tickets, deals and tasks concern the customer."""
    return {
        kind: kind_spec(kind).association.objects.for_workspace(workspace).filter(customer=customer).count()
        for kind in (Kind.CONVERSATION, Kind.TICKET, Kind.DEAL, Kind.TASK)
    }


def record_picker_search(*, workspace: Workspace, kind: str, query: str, customer: Customer) -> list[Record]:
    """Records of this workspace whose title holds `query`, not yet associated with the customer (the picker of
    "associate existing"). Only this workspace's records can ever be found."""
    spec = kind_spec(kind)
    already = spec.association.objects.for_workspace(workspace).filter(customer=customer).values(RECORD_ID)
    rows = spec.model.objects.for_workspace(workspace).exclude(pk__in=already)
    if query:
        rows = rows.filter(**{f"{spec.title_field}__icontains": query[:100]})
    return list(rows.order_by("-updated_at", "-id")[:PICKER_LIMIT])
