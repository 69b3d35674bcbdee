"""Request and response shapes of the customers API. Validation rules live in the services, not here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

from relasi.accounts.models import User
from relasi.core.api_fields import (
    NOT_BLANK,
    InputSchema,
    NotNull,
    StrictFlag,
    WholeNumber,
    patch_field,
    text_rules,
)
from relasi.core.inputs import YEAR_REGEX
from relasi.customers.cleaning import FIELD_LIMITS, RESERVED_KEYS
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
from relasi.customers.properties import KEY_PATTERN
from relasi.customers.property_services import LABEL_MAX, OPTION_MAX, OPTIONS_MAX, STATUS_OPTION_MAX

CHANNELS = ", ".join(Channel.values)
KINDS = ", ".join(PropertyKind.values)
# How values of the number types travel, in both directions: plain JSON, never grouped or with "Rp".
NUMBER_VALUES = (
    "A number property holds a JSON number; a currency property a JSON integer of whole rupiah (1500000, "
    'never "Rp 1.500.000" or 1500000.5).'
)


class PersonOut(Schema):
    id: int
    full_name: str


class ChannelIdentityOut(Schema):
    channel: str
    kind: str = Field(
        description="`username` (the handle people see, e.g. an Instagram username) or `id` (the channel's own "
        "id for the person, e.g. WhatsApp's business-scoped user id)."
    )
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
    properties: dict[str, Any] = Field(description=f"Custom property values by key. {NUMBER_VALUES}")
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
    previous_cursor: str | None = Field(
        description="Pass as `cursor` for the page before this one; null on the first page."
    )
    position: int = Field(
        ge=0,
        description=(
            "How many rows come before this page (0 on the first page): this page holds rows `position + 1` to "
            "`position + len(items)`. Carried from page to page, so it is exact unless rows were added or removed "
            "before the page while you paged; the first page is always 0."
        ),
    )
    total: int = Field(description="How many customers match the filters (all pages).")
    total_is_estimate: bool = Field(
        description="True when `total` is the database's estimate of a large count."
    )


def _customer_text(
    field: str, *, required: bool = False, description: str = "", nullable: bool = False, pattern: str = ""
) -> Any:
    """A customer text field as the API documents it: the column's limit, no NUL (relasi.core.api_fields), or the
    `pattern` its value must match (documented only: the cleaner checks it, with its own words)."""
    if nullable:
        description = (description + " null clears it.").strip()
    rules = text_rules(FIELD_LIMITS[field], required=required)
    if pattern:
        rules["pattern"] = pattern
    return Field(
        "" if not (required or nullable) else None, description=description or None, json_schema_extra=rules
    )


# Five digits (an Indonesian postal code) or empty; spaces around are trimmed.
ZIP_CODE_PATTERN = r"^\s*([0-9]{5})?\s*$"
ZIP_CODE_DESCRIPTION = "Five digits (an Indonesian postal code, e.g. 40115), or empty."


SOURCE_SCHEMA: dict[str, Any] = {"enum": ["", *Channel.values]}
PROPERTIES_SCHEMA: dict[str, Any] = {"propertyNames": {"pattern": KEY_PATTERN.pattern}}


class CustomerIn(InputSchema):
    full_name: str = Field(json_schema_extra=text_rules(FIELD_LIMITS["full_name"], required=True))
    owner_id: WholeNumber | None = Field(None, description="A member of the workspace (user id).")
    assignee_id: WholeNumber | None = Field(None, description="A member of the workspace (user id).")
    source: str = Field("", description=f"One of {CHANNELS}, or empty.", json_schema_extra=SOURCE_SCHEMA)
    channel_username: str = _customer_text(
        "channel_username",
        description="The customer's username on `source` (needed with it); unique per channel in the workspace.",
    )
    phone: str = _customer_text(
        "phone", description="Local (0812…) or international (+62812…) form; stored as E.164."
    )
    email: str = _customer_text("email")
    status: str = _customer_text("status", description="One of the options of the built-in status property.")
    job_title: str = _customer_text("job_title")
    province: str = _customer_text("province")
    city: str = _customer_text("city", description="Regency or city.")
    district: str = _customer_text("district")
    subdistrict: str = _customer_text("subdistrict")
    zip_code: str = _customer_text("zip_code", description=ZIP_CODE_DESCRIPTION, pattern=ZIP_CODE_PATTERN)
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Custom property values by key, checked against their type. {NUMBER_VALUES}",
        json_schema_extra=PROPERTIES_SCHEMA,
    )


class CustomerPatchIn(InputSchema):
    """Every field optional: only the fields sent change. A text field or a property sent as null is cleared."""

    full_name: Annotated[str | None, NotNull] = patch_field(
        **text_rules(FIELD_LIMITS["full_name"], required=True)
    )
    owner_id: WholeNumber | None = Field(
        None, description="A member of the workspace (user id); null clears it."
    )
    assignee_id: WholeNumber | None = Field(
        None, description="A member of the workspace (user id); null clears it."
    )
    source: str | None = Field(
        None,
        description=f"One of {CHANNELS}; empty or null clears it.",
        json_schema_extra={"enum": [*SOURCE_SCHEMA["enum"], None]},
    )
    channel_username: str | None = _customer_text("channel_username", nullable=True)
    phone: str | None = _customer_text("phone", nullable=True)
    email: str | None = _customer_text("email", nullable=True)
    status: str | None = _customer_text("status", nullable=True)
    job_title: str | None = _customer_text("job_title", nullable=True)
    province: str | None = _customer_text("province", nullable=True)
    city: str | None = _customer_text("city", nullable=True)
    district: str | None = _customer_text("district", nullable=True)
    subdistrict: str | None = _customer_text("subdistrict", nullable=True)
    zip_code: str | None = _customer_text(
        "zip_code", nullable=True, description=ZIP_CODE_DESCRIPTION, pattern=ZIP_CODE_PATTERN
    )
    properties: Annotated[dict[str, Any] | None, NotNull] = patch_field(
        description=f"Custom property values by key; a property sent as null is cleared. {NUMBER_VALUES}",
        **PROPERTIES_SCHEMA,
    )


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


class PropertyListQuery(Schema):
    include_archived: StrictFlag = False


SELECT_KINDS = [PropertyKind.SELECT.value, PropertyKind.MULTISELECT.value]
OPTIONS_DESCRIPTION = (
    f"The choices of a select or multi select (ignored for other types): up to {OPTIONS_MAX}, each up to "
    f"{OPTION_MAX} characters ({STATUS_OPTION_MAX} for the status property); blank ones are left out and a "
    "repeated one is kept once."
)


KEY_SCHEMA: dict[str, Any] = {"pattern": KEY_PATTERN.pattern, "not": {"enum": sorted(RESERVED_KEYS)}}
KIND_SCHEMA: dict[str, Any] = {"enum": list(PropertyKind.values)}
OPTIONS_SCHEMA: dict[str, Any] = {
    "maxItems": OPTIONS_MAX,
    "items": {"type": "string", **text_rules(OPTION_MAX)},
}
# A select needs one option that is not blank: said in the schema, checked by the service.
SELECT_NEEDS_AN_OPTION: dict[str, Any] = {
    "if": {"properties": {"kind": {"enum": SELECT_KINDS}}, "required": ["kind"]},
    "then": {
        "required": ["options"],
        "properties": {"options": {"contains": {"type": "string", "pattern": NOT_BLANK}}},
    },
}


class PropertyIn(InputSchema):
    label: str = Field(json_schema_extra=text_rules(LABEL_MAX, required=True))
    key: str = Field(
        description="Lower-case letters, digits and underscores, starting with a letter; not a built-in field's.",
        json_schema_extra=KEY_SCHEMA,
    )
    kind: str = Field(description=f"One of {KINDS}.", json_schema_extra=KIND_SCHEMA)
    options: list[str] = Field(
        default_factory=list, description=OPTIONS_DESCRIPTION, json_schema_extra=OPTIONS_SCHEMA
    )
    is_required: bool = False

    model_config = ConfigDict(json_schema_extra=SELECT_NEEDS_AN_OPTION)


POSITION_MAX = 2_147_483_647


def _position(value: int) -> int:
    if not 0 <= value <= POSITION_MAX:
        raise PydanticCustomError(
            "range", "Use a whole number from 0 to {maximum}.", {"maximum": POSITION_MAX}
        )
    return value


class PropertyPatchIn(InputSchema):
    """Key and type are fixed; only the fields sent change. None of them may be null: leave a field out to keep it."""

    label: Annotated[str | None, NotNull] = patch_field(**text_rules(LABEL_MAX, required=True))
    options: Annotated[list[str] | None, NotNull] = patch_field(
        description=OPTIONS_DESCRIPTION + " A select keeps at least one.", **OPTIONS_SCHEMA
    )
    is_required: Annotated[bool | None, NotNull] = patch_field()
    is_visible: Annotated[bool | None, NotNull] = patch_field()
    position: Annotated[Annotated[WholeNumber, AfterValidator(_position)] | None, NotNull] = patch_field(
        minimum=0, maximum=POSITION_MAX
    )


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


def _refuse_empty(value: Any) -> None:
    # The page's forms send empty fields for "no filter"; an API client leaves the parameter out, and an empty
    # value of a parameter with a format is not one of the values its description allows.
    if value is not None and not str(value).strip():
        raise PydanticCustomError("empty", "Leave the parameter out, or give it a value.")


def _filter_value(parse: Callable[[str], Any], *, allow_empty: bool = False) -> Callable[[Any], Any]:
    """A query parameter checked by the page's own parser: the same values refused with the same words."""

    def validate(value: Any) -> Any:
        if not allow_empty:
            _refuse_empty(value)
        try:
            return parse("" if value is None else str(value))
        except FilterValueError as error:
            raise PydanticCustomError("invalid_filter", "{message}", {"message": str(error)}) from None

    return validate


def _sources(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list | tuple) else [value]
    for item in values:
        _refuse_empty(item)
    try:
        return sources_parse(item for item in values if item is not None)
    except FilterValueError as error:
        raise PydanticCustomError("invalid_filter", "{message}", {"message": str(error)}) from None


# Days and months of the years the filters accept (relasi.core.inputs).
DAY_SCHEMA = {"format": "date", "pattern": f"^{YEAR_REGEX}-"}
MONTH_SCHEMA = {"pattern": f"^{YEAR_REGEX}-(0[1-9]|1[0-2])$"}


def _query_schema(schema: dict[str, Any]) -> WithJsonSchema:
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
        str, BeforeValidator(_filter_value(date_mode_parse)), _query_schema({"enum": list(DATE_MODES)})
    ] = Field(
        "all",
        alias="date",
        description=(
            "Last update, in the workspace's time zone: `day` needs `day`, `month` needs `month`, "
            "`custom` needs `from` and `to` (both days included)."
        ),
    )
    day: Annotated[date | None, BeforeValidator(_filter_value(day_parse)), _query_schema(DAY_SCHEMA)] = None
    month: Annotated[str, BeforeValidator(_filter_value(month_parse)), _query_schema(MONTH_SCHEMA)] = ""
    date_from: Annotated[
        date | None, BeforeValidator(_filter_value(day_parse)), _query_schema(DAY_SCHEMA)
    ] = Field(None, alias="from", description="First day of a `custom` range.")
    date_to: Annotated[date | None, BeforeValidator(_filter_value(day_parse)), _query_schema(DAY_SCHEMA)] = (
        Field(None, alias="to", description="Last day of a `custom` range (included).")
    )
    q: Annotated[str, BeforeValidator(_filter_value(search_parse, allow_empty=True)), _query_schema({})] = (
        Field(
            "",
            description=f"Part of the name, a phone (0812… or +62812…) or an email; the first {SEARCH_MAX} characters are used.",
        )
    )
    sort: Annotated[str, BeforeValidator(_filter_value(sort_parse)), _query_schema({"enum": list(SORTS)})] = (
        Field(
            "recent",
            description="`recent` = last update, newest first. Ignored in the Deleted view (newest deletion first).",
        )
    )
    deleted: Annotated[
        bool, BeforeValidator(_filter_value(deleted_parse)), _query_schema({"enum": ["0", "1"]})
    ] = Field(
        False,
        description="`1` lists the Deleted view instead: customers that can still be restored.",
        json_schema_extra={"default": "0"},
    )
    cursor: str | None = Field(
        None,
        description=(
            "`next_cursor` or `previous_cursor` of a page of this list, sent with the same filters and sort; "
            "any other value is a `400 invalid-cursor`."
        ),
    )
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
