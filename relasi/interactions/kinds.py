"""What the code needs to know of each kind of record, in one table: its model, its association table, the
fields a user sets and how each is read. Services, selectors, pages and the API all work from this table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import models

from relasi.customers.models import Channel
from relasi.interactions.models import (
    ApprovalStatus,
    Association,
    Campaign,
    CampaignRecipient,
    Company,
    CompanyCustomer,
    CompanySize,
    Conversation,
    ConversationCustomer,
    ConversationStatus,
    Deal,
    DealCustomer,
    Kind,
    Priority,
    Record,
    Task,
    TaskCustomer,
    TaskStatus,
    Ticket,
    TicketCustomer,
)

# How a field's value is read: text of at most `max_length`, one of `choices`, a member of the workspace, a date,
# a date and time, whole rupiah, or a stage of the record's pipeline (the pipeline is set with it).
FieldType = Literal["text", "choice", "member", "date", "datetime", "rupiah", "stage"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    value_type: FieldType
    required: bool = False
    max_length: int = 200
    choices: type[models.TextChoices] | None = None


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    model: type[Record]
    association: type[Association]
    # The field that names a record in lists, pickers and the timeline.
    title_field: str
    fields: tuple[FieldSpec, ...]

    @property
    def field_names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    @property
    def has_pipeline(self) -> bool:
        return any(spec.value_type == "stage" for spec in self.fields)


PRIORITY = FieldSpec("priority", "choice", choices=Priority)

KINDS: dict[str, KindSpec] = {
    spec.kind.value: spec
    for spec in (
        KindSpec(
            Kind.CONVERSATION,
            Conversation,
            ConversationCustomer,
            "subject",
            (
                FieldSpec("channel", "choice", required=True, choices=Channel),
                FieldSpec("status", "choice", choices=ConversationStatus),
                FieldSpec("subject", "text"),
                FieldSpec("assignee", "member"),
            ),
        ),
        KindSpec(
            Kind.CAMPAIGN,
            Campaign,
            CampaignRecipient,
            "name",
            (
                FieldSpec("name", "text", required=True),
                FieldSpec("template_name", "text", required=True),
                FieldSpec("sent_at", "datetime"),
            ),
        ),
        KindSpec(
            Kind.COMPANY,
            Company,
            CompanyCustomer,
            "name",
            (
                FieldSpec("name", "text", required=True),
                FieldSpec("domain", "text", max_length=253),
                FieldSpec("industry", "text", max_length=80),
                FieldSpec("size", "choice", choices=CompanySize),
                FieldSpec("address", "text", max_length=500),
            ),
        ),
        KindSpec(
            Kind.TICKET,
            Ticket,
            TicketCustomer,
            "title",
            (
                FieldSpec("title", "text", required=True),
                FieldSpec("stage", "stage"),
                PRIORITY,
                FieldSpec("reporter", "member"),
                FieldSpec("assignee", "member"),
                FieldSpec("due_at", "datetime"),
                FieldSpec("resolved_at", "datetime"),
            ),
        ),
        KindSpec(
            Kind.DEAL,
            Deal,
            DealCustomer,
            "name",
            (
                FieldSpec("name", "text", required=True),
                FieldSpec("stage", "stage"),
                FieldSpec("amount", "rupiah"),
                FieldSpec("approval_status", "choice", choices=ApprovalStatus),
                FieldSpec("owner", "member"),
                PRIORITY,
                FieldSpec("expected_close_date", "date"),
            ),
        ),
        KindSpec(
            Kind.TASK,
            Task,
            TaskCustomer,
            "title",
            (
                FieldSpec("title", "text", required=True),
                FieldSpec("status", "choice", choices=TaskStatus),
                FieldSpec("stage", "stage"),
                FieldSpec("assignee", "member"),
                PRIORITY,
                FieldSpec("due_date", "date"),
            ),
        ),
    )
}


def kind_spec(kind: str) -> KindSpec:
    """The spec of `kind`; KeyError for a kind that does not exist (callers check input with `KINDS` first)."""
    return KINDS[kind]
