"""Request and response shapes of the interactions API. The input shapes of the six kinds are made from the table
of kinds (relasi.interactions.kinds), so the API accepts the fields RecordCleaner checks and describes them with
the cleaner's limits; the rules stay in the cleaner and the services."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from types import GenericAlias
from typing import Annotated, Any, Literal, get_args

from annotated_types import Interval
from ninja import Field, Schema
from pydantic import BeforeValidator, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from relasi.accounts.models import User
from relasi.core.api_fields import InputSchema, NotNull, WholeNumber, patch_field, text_rules
from relasi.core.ids import LARGEST_ID
from relasi.core.inputs import NUMBER_LIMIT, YEAR_REGEX
from relasi.core.pagination import Page
from relasi.customers.models import Channel, TimelineEntry
from relasi.customers.schemas import PersonOut
from relasi.customers.selectors import TIMELINE_PAGE_SIZE
from relasi.interactions.cleaning import ID_MAX_DIGITS
from relasi.interactions.filters import ID_FILTERS, KIND_FILTERS, FilterError, TabFilters, tab_filters_parse
from relasi.interactions.kinds import KINDS, FieldSpec
from relasi.interactions.models import Direction, Message, Pipeline, Record, Ticket
from relasi.interactions.selectors import MAX_PAGE_SIZE, PAGE_SIZE, sla_status

CHANNELS = ", ".join(Channel.values)
LARGEST_FIELD_ID = 10**ID_MAX_DIGITS - 1
# Dates and times as the description states them and the API checks them before the cleaner reads them: the years
# Relasi accepts; a time is RFC 3339 (what the description's `date-time` means), with an offset of at most 14 hours.
DATE_PATTERN = f"^{YEAR_REGEX}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATETIME_PATTERN = (
    f"^{YEAR_REGEX}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    "([.][0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)$"
)
DATE_SCHEMA: dict[str, Any] = {"format": "date", "pattern": DATE_PATTERN}
DATETIME_SCHEMA: dict[str, Any] = {"format": "date-time", "pattern": DATETIME_PATTERN}
DATETIME_DESCRIPTION = "RFC 3339, with its offset: 2026-03-31T14:30:00+07:00 or 2026-03-31T07:30:00Z."


def _moment_format(pattern: str, example: str) -> Any:
    def validate(value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            raise PydanticCustomError("moment", "Write it like {example}.", {"example": example})
        return value

    return BeforeValidator(validate)


DateText = Annotated[str, _moment_format(DATE_PATTERN, "2026-03-31")]
DateTimeText = Annotated[str, _moment_format(DATETIME_PATTERN, "2026-03-31T14:30:00+07:00")]


def api_field_name(spec: FieldSpec) -> str:
    """The API names a person or a stage after what it holds (an id), as the customers API does."""
    return f"{spec.name}_id" if spec.value_type in ("member", "stage") else spec.name


# --- Records out ------------------------------------------------------------------------------------------


class NamedOut(Schema):
    id: int
    name: str


class RecordOut(Schema):
    id: int
    customer_ids: list[int] = Field(description="The customers the record concerns, lowest id first.")
    created_by: PersonOut | None
    created_at: datetime
    updated_at: datetime = Field(description="Last change.")

    @staticmethod
    def resolve_customer_ids(obj: Record) -> list[int]:
        # .all() reads the rows a list prefetched instead of a query per record.
        return sorted(association.customer_id for association in obj.associations.all())  # type: ignore[attr-defined]

    @staticmethod
    def resolve_created_by(obj: Record) -> User | None:
        return obj.created_by


class ConversationOut(RecordOut):
    channel: str = Field(description=f"One of {CHANNELS}.")
    status: str = Field(description="open, pending or resolved.")
    subject: str
    assignee: PersonOut | None
    external_id: str = Field(description="The provider's id of the chat; empty when none.")
    messages_count: int
    last_message_at: datetime | None


class CampaignOut(RecordOut):
    name: str
    template_name: str
    channel: str
    sent_at: datetime | None


class CompanyOut(RecordOut):
    name: str
    domain: str
    industry: str
    size: str
    address: str


class StagedOut(RecordOut):
    pipeline: NamedOut
    stage: NamedOut
    priority: str = Field(description="low, medium, high or urgent.")


class TicketOut(StagedOut):
    title: str
    reporter: PersonOut | None
    assignee: PersonOut | None
    due_at: datetime | None
    resolved_at: datetime | None
    sla_status: str = Field(
        description="on_time, at_risk (open and due within 4 hours) or breached (resolved after its due time, or "
        "open past it); derived from `due_at` and `resolved_at`, never stored."
    )

    @staticmethod
    def resolve_sla_status(obj: Ticket) -> str:
        return sla_status(due_at=obj.due_at, resolved_at=obj.resolved_at)


class DealOut(StagedOut):
    name: str
    amount: int = Field(description="Whole rupiah.")
    approval_status: str = Field(description="none, waiting, approved or rejected.")
    owner: PersonOut | None
    expected_close_date: date | None


class TaskOut(StagedOut):
    title: str
    status: str = Field(description="todo, in_progress or done.")
    assignee: PersonOut | None
    due_date: date | None


RECORD_OUT: dict[str, type[RecordOut]] = {
    "conversation": ConversationOut,
    "campaign": CampaignOut,
    "company": CompanyOut,
    "ticket": TicketOut,
    "deal": DealOut,
    "task": TaskOut,
}


class PageOut(Schema):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    previous_cursor: str | None = Field(
        description="Pass as `cursor` for the page before this one; null on the first page."
    )
    position: int = Field(ge=0, description="How many rows come before this page (0 on the first page).")


def page_body(page: Page[Any]) -> dict[str, Any]:
    """A page of a list as every list of the API answers it."""
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
        "position": page.position,
    }


def _list_out(kind: str) -> type[PageOut]:
    name = f"{kind.capitalize()}ListOut"
    items: Any = GenericAlias(list, (RECORD_OUT[kind],))
    return create_model(name, __base__=PageOut, items=(items, ...))


RECORD_LIST_OUT = {kind: _list_out(kind) for kind in KINDS}


# --- Records in -------------------------------------------------------------------------------------------


def _whole_between(low: int, high: int) -> Any:
    # The bounds before WholeNumber's reading of 5.0 as 5, so the OpenAPI description states them as JSON Schema.
    return Annotated[int, Interval(ge=low, le=high), get_args(WholeNumber)[1]]


Id = _whole_between(1, LARGEST_FIELD_ID)
Rupiah = _whole_between(0, int(NUMBER_LIMIT))


def _choice_type(spec: FieldSpec) -> Any:
    assert spec.choices is not None
    return Literal[tuple(spec.choices.values)]


def _input_field(spec: FieldSpec, *, patch: bool) -> tuple[Any, Any]:
    """The type and default of one field: left out keeps (PATCH) or defaults (create); null clears what may be
    empty, and is refused for what may not (a required text, a choice, a stage, an amount)."""
    kind, required = spec.value_type, spec.required
    if kind == "text":
        rules = text_rules(spec.max_length, required=required)
        if not required:
            return str | None, Field(None, json_schema_extra=rules)
        if patch:
            return Annotated[str | None, NotNull], patch_field(**rules)
        return str, Field(..., json_schema_extra=rules)
    if kind == "choice":
        if required and not patch:
            return _choice_type(spec), Field(...)
        return Annotated[_choice_type(spec) | None, NotNull], patch_field()
    if kind == "member":
        return Id | None, Field(None, description="A member of the workspace (user id); null clears it.")
    if kind == "stage":
        return Annotated[Id | None, NotNull], patch_field(
            description="A stage of one of the workspace's pipelines of this kind (GET /pipelines); the record "
            "moves to its pipeline. Left out on create: the first stage of the kind's first pipeline.",
            minimum=1,
            maximum=LARGEST_FIELD_ID,
        )
    if kind == "rupiah":
        return Annotated[Rupiah | None, NotNull], patch_field(
            description="Whole rupiah.", minimum=0, maximum=int(NUMBER_LIMIT)
        )
    schema = DATE_SCHEMA if kind == "date" else DATETIME_SCHEMA
    description = "YYYY-MM-DD." if kind == "date" else DATETIME_DESCRIPTION
    return (DateText if kind == "date" else DateTimeText) | None, Field(
        None, description=f"{description} Null clears it.", json_schema_extra=schema
    )


CUSTOMERS_MAX = 100
CustomerIds: Any = Annotated[
    GenericAlias(list, (_whole_between(1, LARGEST_ID),)),
    Field(max_length=CUSTOMERS_MAX, json_schema_extra={"uniqueItems": True}),
]


def _record_in(kind: str, *, patch: bool) -> type[InputSchema]:
    fields: dict[str, Any] = {
        api_field_name(spec): _input_field(spec, patch=patch) for spec in KINDS[kind].fields
    }
    if not patch:
        fields["customers"] = (
            CustomerIds,
            Field(default_factory=list, description="Ids of live customers to associate, each once."),
        )
    suffix = "PatchIn" if patch else "In"
    return create_model(f"{kind.capitalize()}{suffix}", __base__=InputSchema, **fields)


RECORD_IN = {kind: _record_in(kind, patch=False) for kind in KINDS}
RECORD_PATCH_IN = {kind: _record_in(kind, patch=True) for kind in KINDS}


# --- Lists' query parameters ------------------------------------------------------------------------------


def _checked_filter(kind: str, name: str) -> Callable[[Any], tuple[Any, ...]]:
    """A filter parameter read by the page's own parser (relasi.interactions.filters), so both refuse the same
    values with the same words; an empty value, or one with spaces around it, is refused rather than dropped."""

    def validate(value: Any) -> tuple[Any, ...]:
        values = [str(item) for item in (value if isinstance(value, list | tuple) else [value])]
        for item in values:
            if not item or item != item.strip():
                raise PydanticCustomError("empty", "Leave the parameter out, or give it a value.")
            # str.isdigit() holds for "²" too, which int() cannot read: only ASCII digits are ids.
            if name in ID_FILTERS and not (item.isascii() and item.isdigit()):
                raise PydanticCustomError("invalid_filter", "“{value}” is not an id.", {"value": item[:30]})
        try:
            parsed = tab_filters_parse({name: values}, kind=kind)
        except FilterError as error:
            raise PydanticCustomError(
                "invalid_filter", "{message}", {"message": error.errors[name]}
            ) from None
        return tuple(getattr(parsed, name))

    return validate


def _filter_choices(kind: str, name: str) -> list[str]:
    spec = next((field for field in KINDS[kind].fields if field.name == name), None)
    if name == "sla":
        return ["on_time", "at_risk", "breached"]
    if name == "channel":
        return list(Channel.values)
    assert spec is not None and spec.choices is not None
    return list(spec.choices.values)


def _filter_field(kind: str, name: str) -> tuple[Any, Any]:
    if name in ID_FILTERS:
        items: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": LARGEST_FIELD_ID}
        what = "ids"
    else:
        items = {"type": "string", "enum": _filter_choices(kind, name)}
        what = "values"
    annotation: Any = Annotated[
        tuple[Any, ...],
        BeforeValidator(_checked_filter(kind, name)),
        WithJsonSchema({"type": "array", "items": items, "maxItems": 50}),
    ]
    return annotation, Field((), description=f"The {what} to keep (repeat the parameter for several).")


class RecordListQuery(Schema):
    customer: int | None = Field(
        None,
        ge=1,
        le=LARGEST_ID,
        description="Only the records of this customer (its tab on the customer's page); campaigns: those sent "
        "in the last 12 months.",
    )
    cursor: str | None = Field(
        None,
        description="`next_cursor` or `previous_cursor` of a page of this list, sent with the same filters; any "
        "other value is a `400 invalid-cursor`.",
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    def filters(self, kind: str) -> TabFilters:
        return TabFilters(**{name: getattr(self, name) for name in KIND_FILTERS[kind]})


def _list_query(kind: str) -> type[RecordListQuery]:
    fields: dict[str, Any] = {name: _filter_field(kind, name) for name in KIND_FILTERS[kind]}
    return create_model(f"{kind.capitalize()}ListQuery", __base__=RecordListQuery, **fields)


RECORD_LIST_QUERY = {kind: _list_query(kind) for kind in KINDS}


# --- Messages ---------------------------------------------------------------------------------------------

MESSAGE_TEXT_MAX = 4096
MESSAGE_TYPE_MAX = 30
PROVIDER_ID_MAX = 200


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str = Field(description="inbound or outbound.")
    type: str = Field(description="`text`, or what the message holds instead (image, document…).")
    text: str
    sent_at: datetime
    provider_message_id: str
    author: PersonOut | None = Field(description="Who sent an outbound message; null for inbound ones.")

    @staticmethod
    def resolve_type(obj: Message) -> str:
        return obj.message_type

    @staticmethod
    def resolve_author(obj: Message) -> User | None:
        return obj.author


class MessageListOut(PageOut):
    items: list[MessageOut]


class MessageIn(InputSchema):
    direction: Literal[tuple(Direction.values)]  # type: ignore[valid-type]
    text: str = Field("", json_schema_extra=text_rules(MESSAGE_TEXT_MAX))
    type: str = Field("text", json_schema_extra=text_rules(MESSAGE_TYPE_MAX, required=True))
    sent_at: DateTimeText | None = Field(
        None, description=f"{DATETIME_DESCRIPTION} Now when left out.", json_schema_extra=DATETIME_SCHEMA
    )
    provider_message_id: str = Field(
        "",
        description="The provider's id of the message: a message sent again with the same id is stored once.",
        json_schema_extra=text_rules(PROVIDER_ID_MAX),
    )


class PageQuery(Schema):
    cursor: str | None = Field(None, description="`next_cursor` or `previous_cursor` of a page of this list.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


# --- Pipelines --------------------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str
    position: int


class PipelineOut(Schema):
    id: int
    kind: str
    name: str
    position: int
    stages: list[StageOut] = Field(description="In their order.")

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Any]:
        return sorted(obj.stages.all(), key=lambda stage: (stage.position, stage.pk))


class PipelineListOut(Schema):
    items: list[PipelineOut]


class PipelineQuery(Schema):
    kind: Literal["ticket", "deal", "task"] | None = Field(
        None, description="Only the pipelines of this kind; all three kinds when left out."
    )


# --- The customer's tabs ----------------------------------------------------------------------------------


class TimelineQuery(PageQuery):
    limit: int = Field(TIMELINE_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class TimelineLineOut(Schema):
    id: int
    at: datetime
    actor: str = Field(
        description="Who did it: a user's email, `api-key:<prefix> (<name>)`, or `system:<job>`."
    )
    action: str = Field(description="e.g. `customer.updated`, `ticket.created`, `association.added`.")
    record_kind: str | None = Field(description="The kind of the record it concerns; null for the customer.")
    record_id: int | None
    summary: dict[str, Any] = Field(
        description="What changed: the record's `title`, and `changes` as {field: [before, after]}."
    )

    @staticmethod
    def resolve_actor(obj: TimelineEntry) -> str:
        return obj.actor_label

    @staticmethod
    def resolve_record_kind(obj: TimelineEntry) -> str | None:
        return obj.record_kind or None


class TimelineOut(PageOut):
    items: list[TimelineLineOut]


class ActivityOut(Schema):
    conversations: int
    tickets: int
    deals: int
    tasks: int


KindName: Any = Literal[tuple(KINDS)]


class AssociationIn(InputSchema):
    kind: KindName
    record_id: _whole_between(1, LARGEST_ID)  # type: ignore[valid-type]


# The kind in a path: any text reaches the endpoint, which answers 404 for a kind that does not exist.
KindInPath = Annotated[str, WithJsonSchema({"type": "string", "enum": list(KINDS)})]


class AssociationOut(Schema):
    customer_id: int
    kind: str
    record_id: int
