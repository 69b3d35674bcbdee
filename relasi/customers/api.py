"""The customers API: list with the All customers filters, create (idempotent), read, update, delete, restore,
and the property definitions. Endpoints parse, authorize and call services; the rules live there."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.params import HeaderEx, P
from ninja.responses import NinjaJSONEncoder, Response

from relasi.api.errors import ApiProblem
from relasi.api.schemas import ProblemOut
from relasi.core.audit import Actor
from relasi.core.models import IdempotentRequest
from relasi.customers import selectors, services
from relasi.customers.models import Channel, Customer, PropertyDefinition
from relasi.customers.schemas import (
    CustomerIn,
    CustomerListOut,
    CustomerOut,
    CustomerPatchIn,
    PropertyIn,
    PropertyListOut,
    PropertyOut,
    PropertyPatchIn,
)
from relasi.tenancy.models import Membership, Workspace

router = Router(tags=["customers"])

CREATE_ENDPOINT = "POST /customers"
IDEMPOTENCY_KEY_MAX = 200

READ_ERRORS: dict[int, Any] = {401: ProblemOut, 404: ProblemOut}
WRITE_ERRORS: dict[int, Any] = {401: ProblemOut, 404: ProblemOut, 422: ProblemOut}
PROPERTY_WRITE_ERRORS: dict[int, Any] = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}


def _workspace(request: HttpRequest) -> Workspace:
    workspace: Workspace = request.workspace  # type: ignore[attr-defined]
    return workspace


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _require_manager(request: HttpRequest) -> None:
    """Owners and admins manage properties. An API key has no membership: it acts for the whole workspace."""
    membership: Membership | None = getattr(request, "membership", None)
    if membership is not None and not membership.can_manage:
        raise ApiProblem(
            status=403,
            slug="forbidden",
            title="Only owners and admins can change customer properties.",
        )


# The API names the people fields after what they hold (a user id); the services name them after the person.
API_FIELD_NAMES = {"owner": "owner_id", "assignee": "assignee_id"}


def _customer_data(fields: dict[str, Any]) -> dict[str, Any]:
    """API field names → the service's."""
    service_names = {api_name: name for name, api_name in API_FIELD_NAMES.items()}
    return {service_names.get(field, field): value for field, value in fields.items()}


def _with_api_field_names(error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {API_FIELD_NAMES.get(field, field): items for field, items in error.error_dict.items()}
    )


# --- Customers -----------------------------------------------------------------------------------------

LIST_PARAMETERS: list[dict[str, Any]] = [
    {
        "in": "query",
        "name": "source",
        "description": "Channels to keep: repeat the parameter or separate with commas.",
        "schema": {"type": "array", "items": {"type": "string", "enum": list(Channel.values)}},
        "style": "form",
        "explode": True,
    },
    {
        "in": "query",
        "name": "date",
        "description": (
            "Last update, in the workspace's time zone: `day` needs `day`, `month` needs `month`, "
            "`custom` needs `from` and `to` (both days included)."
        ),
        "schema": {"type": "string", "enum": list(selectors.DATE_MODES), "default": "all"},
    },
    {"in": "query", "name": "day", "schema": {"type": "string", "format": "date"}},
    {"in": "query", "name": "month", "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}},
    {"in": "query", "name": "from", "schema": {"type": "string", "format": "date"}},
    {"in": "query", "name": "to", "schema": {"type": "string", "format": "date"}},
    {
        "in": "query",
        "name": "q",
        "description": "Part of the name, a phone (0812… or +62812…) or an email.",
        "schema": {"type": "string", "maxLength": 100},
    },
    {
        "in": "query",
        "name": "sort",
        "description": "`recent` = last update, newest first. Ignored in the Deleted view (newest deletion first).",
        "schema": {"type": "string", "enum": list(selectors.SORTS), "default": "recent"},
    },
    {
        "in": "query",
        "name": "deleted",
        "description": "`1` lists the Deleted view instead: customers that can still be restored.",
        "schema": {"type": "string", "enum": ["0", "1"], "default": "0"},
    },
    {
        "in": "query",
        "name": "cursor",
        "description": "`next_cursor` of the previous page.",
        "schema": {"type": "string"},
    },
    {
        "in": "query",
        "name": "limit",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": selectors.MAX_PAGE_SIZE,
            "default": selectors.PAGE_SIZE,
        },
    },
]


def _limit(request: HttpRequest, errors: dict[str, list[str]]) -> int:
    raw = request.GET.get("limit", "").strip()
    if not raw:
        return selectors.PAGE_SIZE
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= selectors.MAX_PAGE_SIZE:
        errors["limit"] = [f"Use a whole number from 1 to {selectors.MAX_PAGE_SIZE}."]
    return limit


@router.get(
    "/customers",
    response={200: CustomerListOut, 400: ProblemOut, 401: ProblemOut},
    summary="List customers",
    description=(
        "The All customers list with the same filters as the page. Keyset paging: follow `next_cursor` "
        "with the same filters until it is null."
    ),
    openapi_extra={"parameters": LIST_PARAMETERS},
)
def customer_list(request: HttpRequest) -> dict[str, Any]:
    workspace = _workspace(request)
    errors: dict[str, list[str]] = {}
    limit = _limit(request, errors)
    try:
        filters = selectors.customer_filters_parse(request.GET)
    except selectors.FilterError as error:
        errors.update({name: [message] for name, message in error.errors.items()})
    if errors:
        raise ApiProblem(
            status=400,
            slug="invalid-filter",
            title="The filters are not valid.",
            detail="One or more query parameters are not valid; see errors.",
            errors=errors,
        )
    page = selectors.customer_page(
        workspace=workspace, filters=filters, cursor=request.GET.get("cursor") or None, limit=limit
    )
    prefetch_related_objects(page.items, "identities")
    count = selectors.customer_count(
        workspace=workspace, filters=filters, first_page=None if request.GET.get("cursor") else page
    )
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "total": count.value,
        "total_is_estimate": count.is_estimate,
    }


def _request_hash(payload: CustomerIn) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _create(request: HttpRequest, payload: CustomerIn) -> dict[str, Any]:
    try:
        customer = services.customer_create(
            workspace=_workspace(request), actor=_actor(request), data=_customer_data(payload.model_dump())
        )
    except ValidationError as error:
        raise _with_api_field_names(error) from None
    return _as_rendered(CustomerOut.model_validate(customer).model_dump())


def _as_rendered(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON exactly as the API renders it, so a stored response replays byte for byte like a live one."""
    rendered: dict[str, Any] = json.loads(json.dumps(data, cls=NinjaJSONEncoder))
    return rendered


def _create_idempotent(request: HttpRequest, payload: CustomerIn, key: str) -> tuple[int, dict[str, Any]]:
    workspace = _workspace(request)
    request_hash = _request_hash(payload)
    with transaction.atomic():
        # The row is claimed first, under the unique constraint and in the same transaction as the
        # customer: a concurrent repeat waits on the constraint and then reads the committed answer, and
        # a failed create (e.g. 422) rolls the claim back, so fixing the body and retrying is allowed.
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    workspace=workspace,
                    endpoint=CREATE_ENDPOINT,
                    key=key,
                    request_hash=request_hash,
                    status_code=201,
                    response_body={},
                )
        except IntegrityError:
            record = None
        if record is None:
            stored = IdempotentRequest.objects.get(workspace=workspace, endpoint=CREATE_ENDPOINT, key=key)
            if stored.request_hash != request_hash:
                raise ApiProblem(
                    status=409,
                    slug="idempotency-key-reused",
                    title="This Idempotency-Key was used for a different request.",
                    detail="Send a new Idempotency-Key for a different body.",
                    errors={"Idempotency-Key": ["Already used with another body."]},
                )
            return stored.status_code, stored.response_body
        body = _create(request, payload)
        record.response_body = body
        record.save(update_fields=["response_body"])
    return 201, body


@router.post(
    "/customers",
    response={201: CustomerOut, 401: ProblemOut, 409: ProblemOut, 422: ProblemOut},
    summary="Create a customer",
    description=(
        "Send an `Idempotency-Key` header (any unique string up to 200 characters) to make retries safe: "
        "a repeat with the same key and body returns the first result without creating another customer; "
        "the same key with a different body is a 409. A request refused as invalid is not remembered."
    ),
)
def customer_create(
    request: HttpRequest,
    payload: CustomerIn,
    idempotency_key: HeaderEx[
        str | None,
        P(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX, description="Makes retries safe."),
    ] = None,
) -> HttpResponse:
    key = (idempotency_key or "").strip()
    status, body = _create_idempotent(request, payload, key) if key else (201, _create(request, payload))
    # Already rendered (and possibly replayed from storage): sent as is, not through the response schema.
    return Response(body, status=status)


def _customer_for_output(workspace: Workspace, customer_id: int) -> Customer:
    return selectors.customer_get(workspace=workspace, customer_id=customer_id)


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerOut, **READ_ERRORS},
    summary="Read a customer",
)
def customer_read(request: HttpRequest, customer_id: int) -> Customer:
    return _customer_for_output(_workspace(request), customer_id)


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Update a customer",
    description="Only the fields sent change. A custom property sent as null is cleared.",
)
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerPatchIn) -> Customer:
    workspace = _workspace(request)
    try:
        services.customer_update(
            workspace=workspace,
            actor=_actor(request),
            customer_id=customer_id,
            data=_customer_data(payload.model_dump(exclude_unset=True)),
        )
    except ValidationError as error:
        raise _with_api_field_names(error) from None
    return _customer_for_output(workspace, customer_id)


@router.delete(
    "/customers/{customer_id}",
    response={204: None, **READ_ERRORS},
    summary="Delete a customer",
    description="Moves the customer to the Deleted view, from which it can be restored until it is purged.",
)
def customer_delete(request: HttpRequest, customer_id: int) -> Status[None]:
    deleted = services.customers_delete(
        workspace=_workspace(request), actor=_actor(request), customer_ids=[customer_id]
    )
    if not deleted:
        raise Http404
    return Status(204, None)


@router.post(
    "/customers/{customer_id}/restore",
    response={200: CustomerOut, **READ_ERRORS},
    summary="Restore a deleted customer",
    description="Restoring a customer that is not deleted changes nothing and returns it.",
)
def customer_restore(request: HttpRequest, customer_id: int) -> Customer:
    workspace = _workspace(request)
    services.customers_restore(workspace=workspace, actor=_actor(request), customer_ids=[customer_id])
    return _customer_for_output(workspace, customer_id)


# --- Property definitions ---------------------------------------------------------------------------------


@router.get(
    "/customer-properties",
    response={200: PropertyListOut, 401: ProblemOut},
    summary="List customer properties",
    description="Built-in and custom fields in their order. Archived ones only with `include_archived=true`.",
)
def property_list(request: HttpRequest, include_archived: bool = False) -> dict[str, Any]:
    return {
        "items": selectors.property_definitions(
            workspace=_workspace(request), include_archived=include_archived
        )
    }


@router.post(
    "/customer-properties",
    response={201: PropertyOut, 401: ProblemOut, 403: ProblemOut, 422: ProblemOut},
    summary="Create a custom property",
    description="Owners and admins (or an API key).",
)
def property_create(request: HttpRequest, payload: PropertyIn) -> Status[PropertyDefinition]:
    _require_manager(request)
    definition = services.property_create(
        workspace=_workspace(request),
        # The property services are annotated `User | None` but hand the actor to audit_record, which
        # takes an Actor too; passing it keeps an API key's name in the audit log.
        actor=_actor(request),
        label=payload.label,
        key=payload.key,
        kind=payload.kind,
        options=payload.options,
        is_required=payload.is_required,
    )
    return Status(201, definition)


@router.patch(
    "/customer-properties/{property_id}",
    response={200: PropertyOut, **PROPERTY_WRITE_ERRORS},
    summary="Update a property",
    description=(
        "Only the fields sent change. Built-in fields keep their name and cannot be made required; they can be "
        "hidden, and the status options can be edited."
    ),
)
def property_update(request: HttpRequest, property_id: int, payload: PropertyPatchIn) -> PropertyDefinition:
    _require_manager(request)
    return services.property_update(
        workspace=_workspace(request),
        actor=_actor(request),
        property_id=property_id,
        data=payload.model_dump(exclude_unset=True),
    )


@router.post(
    "/customer-properties/{property_id}/archive",
    response={200: PropertyOut, **PROPERTY_WRITE_ERRORS},
    summary="Archive a custom property",
    description="Values are kept but the property is no longer shown or accepted. Built-in fields cannot be archived.",
)
def property_archive(request: HttpRequest, property_id: int) -> PropertyDefinition:
    _require_manager(request)
    return services.property_set_archived(
        workspace=_workspace(request),
        actor=_actor(request),
        property_id=property_id,
        archived=True,
    )


@router.post(
    "/customer-properties/{property_id}/restore",
    response={200: PropertyOut, **PROPERTY_WRITE_ERRORS},
    summary="Restore an archived property",
)
def property_restore(request: HttpRequest, property_id: int) -> PropertyDefinition:
    _require_manager(request)
    return services.property_set_archived(
        workspace=_workspace(request),
        actor=_actor(request),
        property_id=property_id,
        archived=False,
    )
