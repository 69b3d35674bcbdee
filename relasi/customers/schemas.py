"""Request and response shapes of the customers API. Validation rules live in the services, not here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from relasi.accounts.models import User
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
