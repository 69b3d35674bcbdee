"""Request and response shapes of the customers API. Validation rules live in the services, not here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from relasi.accounts.models import User
from relasi.customers.filters import (
    DATE_MODES,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    SEARCH_MAX,
    SORTS,
    CustomerFilters,
    FilterValueError,
    customer_filters_build,
    date_mode_parse,
    day_parse,
    deleted_parse,
    limit_parse,
    month_parse,
    search_parse,
    sort_parse,
    sources_parse,
)
from relasi.customers.models import Channel, ChannelIdentity, Customer, PropertyKind

CHANNELS = ", ".join(Channel.values)
KINDS = ", ".join(PropertyKind.values)


class PersonOut(Schema):
    id: int
    full_name: str


class ChannelIdentityOut(Schema):
    channel: str
    external_id: str


class CustomerOut(Schema):
    id: int
    full_name: str
    owner: PersonOut | None
    assignee: PersonOut | None
    source: str = Field(description=f"Channel the customer came from: one of {CHANNELS}, or empty.")
    phone: str = Field(description="E.164, e.g. +6281234567890; empty when unknown.")
    phone_raw: str = Field(description="The phone as it was entered.")
    email: str
    status: str
    job_title: str
    province: str
    city: str
    district: str
    subdistrict: str
    zip_code: str
    properties: dict[str, Any] = Field(description="Custom property values by key.")
    channel_identities: list[ChannelIdentityOut]
    added_by: str
    created_at: datetime
    updated_at: datetime = Field(description="Last update.")
    deleted_at: datetime | None

    @staticmethod
    def resolve_owner(obj: Customer) -> User | None:
        return obj.owner

    @staticmethod
    def resolve_assignee(obj: Customer) -> User | None:
        return obj.assignee

    @staticmethod
    def resolve_added_by(obj: Customer) -> str:
        return obj.added_by_label

    @staticmethod
    def resolve_channel_identities(obj: Customer) -> list[ChannelIdentity]:
        # .all() uses rows prefetched by the list endpoint instead of a query per customer.
        return sorted(obj.identities.all(), key=lambda identity: identity.pk)


class CustomerListOut(Schema):
    items: list[CustomerOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    total: int = Field(description="How many customers match the filters (all pages).")
    total_is_estimate: bool = Field(
        description="True when `total` is the database's estimate of a large count."
    )


class CustomerIn(Schema):
    full_name: str
    owner_id: int | None = Field(None, description="A member of the workspace (user id).")
    assignee_id: int | None = Field(None, description="A member of the workspace (user id).")
    source: str = Field("", description=f"One of {CHANNELS}.")
    channel_username: str = Field(
        "", description="The customer's username on `source`; unique per channel in the workspace."
    )
    phone: str = Field("", description="Local (0812…) or international (+62812…) form; stored as E.164.")
    email: str = ""
    status: str = Field("", description="One of the options of the built-in status property.")
    job_title: str = ""
    province: str = ""
    city: str = Field("", description="Regency or city.")
    district: str = ""
    subdistrict: str = ""
    zip_code: str = ""
    properties: dict[str, Any] = Field(
        default_factory=dict, description="Custom property values by key, checked against their type."
    )


class CustomerPatchIn(Schema):
    """Every field optional: only the fields sent change. A property sent as null is cleared."""

    full_name: str | None = None
    owner_id: int | None = None
    assignee_id: int | None = None
    source: str | None = None
    channel_username: str | None = None
    phone: str | None = None
    email: str | None = None
    status: str | None = None
    job_title: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    subdistrict: str | None = None
    zip_code: str | None = None
    properties: dict[str, Any] | None = None


class PropertyOut(Schema):
    id: int
    key: str
    label: str
    kind: str = Field(description=f"One of {KINDS}.")
    options: list[str]
    is_required: bool
    is_builtin: bool
    is_visible: bool
    position: int
    archived_at: datetime | None


class PropertyListOut(Schema):
    items: list[PropertyOut]


class PropertyIn(Schema):
    label: str
    key: str = Field(description="Lower-case letters, digits and underscores, starting with a letter.")
    kind: str = Field(description=f"One of {KINDS}.")
    options: list[str] = Field(default_factory=list, description="The choices of a select or multi select.")
    is_required: bool = False


class PropertyPatchIn(Schema):
    """Key and type are fixed; only the fields sent change."""

    label: str | None = None
    options: list[str] | None = None
    is_required: bool | None = None
    is_visible: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class DuplicateCustomerOut(Schema):
    id: int
    full_name: str


class WarningOut(Schema):
    code: str = Field(description="`possible_duplicate`: another customer has the same phone or email.")
    field: str = Field(description="The field that matched: `phone` or `email`.")
    message: str
    customer: DuplicateCustomerOut


class CustomerWriteOut(CustomerOut):
    warnings: list[WarningOut] = Field(
        description=(
            "What the caller may want to check: other live customers with the same phone or email (only a "
            "phone or email this request set or changed). The write happened anyway."
        )
    )


def _filter_value(parse: Callable[[str], Any]) -> Callable[[Any], Any]:
    """A query parameter checked by the page's own parser: the same values refused with the same words."""

    def validate(value: Any) -> Any:
        try:
            return parse("" if value is None else str(value))
        except FilterValueError as error:
            raise PydanticCustomError("invalid_filter", "{message}", {"message": str(error)}) from None

    return validate


def _sources(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list | tuple) else [value]
    try:
        return sources_parse(item for item in values if item is not None)
    except FilterValueError as error:
        raise PydanticCustomError("invalid_filter", "{message}", {"message": str(error)}) from None


def _text(schema: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **schema})


class CustomerListQuery(Schema):
    """The All customers filters as query parameters. Checked by the page's parsers (relasi.customers.filters),
    so the API, the page and this OpenAPI description cannot disagree."""

    source: Annotated[
        list[str],
        BeforeValidator(_sources),
        WithJsonSchema({"type": "array", "items": {"type": "string", "enum": list(Channel.values)}}),
    ] = Field(
        default_factory=list, description="Channels to keep: repeat the parameter or separate with commas."
    )
    date_mode: Annotated[
        str, BeforeValidator(_filter_value(date_mode_parse)), _text({"enum": list(DATE_MODES)})
    ] = Field(
        "all",
        alias="date",
        description=(
            "Last update, in the workspace's time zone: `day` needs `day`, `month` needs `month`, "
            "`custom` needs `from` and `to` (both days included)."
        ),
    )
    day: Annotated[date | None, BeforeValidator(_filter_value(day_parse)), _text({"format": "date"})] = None
    month: Annotated[
        str, BeforeValidator(_filter_value(month_parse)), _text({"pattern": r"^\d{4}-\d{2}$"})
    ] = ""
    date_from: Annotated[
        date | None, BeforeValidator(_filter_value(day_parse)), _text({"format": "date"})
    ] = Field(None, alias="from", description="First day of a `custom` range.")
    date_to: Annotated[date | None, BeforeValidator(_filter_value(day_parse)), _text({"format": "date"})] = (
        Field(None, alias="to", description="Last day of a `custom` range (included).")
    )
    q: Annotated[str, BeforeValidator(_filter_value(search_parse)), _text({})] = Field(
        "",
        description=f"Part of the name, a phone (0812… or +62812…) or an email; the first {SEARCH_MAX} characters are used.",
    )
    sort: Annotated[str, BeforeValidator(_filter_value(sort_parse)), _text({"enum": list(SORTS)})] = Field(
        "recent",
        description="`recent` = last update, newest first. Ignored in the Deleted view (newest deletion first).",
    )
    deleted: Annotated[bool, BeforeValidator(_filter_value(deleted_parse)), _text({"enum": ["0", "1"]})] = (
        Field(
            False,
            description="`1` lists the Deleted view instead: customers that can still be restored.",
            json_schema_extra={"default": "0"},
        )
    )
    cursor: str | None = Field(None, description="`next_cursor` of the previous page.")
    limit: Annotated[
        int,
        BeforeValidator(_filter_value(limit_parse)),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
    ] = PAGE_SIZE

    def filters(self) -> CustomerFilters:
        """The checked filters; FilterError when the parameters disagree (e.g. `date=day` without a day)."""
        return customer_filters_build(
            {
                "sources": tuple(self.source),
                "date_mode": self.date_mode,
                "day": self.day,
                "month": self.month,
                "date_from": self.date_from,
                "date_to": self.date_to,
                "search": self.q,
                "sort": self.sort,
                "deleted": self.deleted,
            }
        )
