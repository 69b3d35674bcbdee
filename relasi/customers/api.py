"""The customers API: list with the All customers filters, create (idempotent), read, update, delete, restore,
and the property definitions. Endpoints parse and call services and selectors; the rules live there."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy
from ninja import Query, Router, Status
from ninja.responses import Response

from relasi.core.api_responses import (
    COMMON_ERRORS,
    IDEMPOTENCY_DESCRIPTION,
    IdempotencyKeyHeader,
    idempotent_response,
    json_rendered,
)
from relasi.core.problems import ApiProblem, ProblemOut
from relasi.customers import property_services, selectors, services
from relasi.customers.filters import FilterError
from relasi.customers.models import Customer, PropertyDefinition
from relasi.customers.schemas import (
    CustomerIn,
    CustomerListOut,
    CustomerListQuery,
    CustomerOut,
    CustomerPatchIn,
    CustomerWriteOut,
    PropertyIn,
    PropertyListOut,
    PropertyListQuery,
    PropertyOut,
    PropertyPatchIn,
)
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["customers"])

CREATE_ENDPOINT = "POST /customers"
PROPERTY_CREATE_ENDPOINT = "POST /customer-properties"

READ_ERRORS: dict[int, Any] = {**COMMON_ERRORS, 404: ProblemOut}
# 409: the data as it stands refuses a well-formed request (a username or key another record holds, a built-in
# field's rules); 422: the request itself is not valid.
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 409: ProblemOut, 422: ProblemOut}
PROPERTY_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 403: ProblemOut}
PROPERTY_STATE_ERRORS: dict[int, Any] = {**READ_ERRORS, 403: ProblemOut, 409: ProblemOut}

# The API names the people fields after what they hold (a user id); the services name them after the person.
API_FIELD_NAMES = {"owner": "owner_id", "assignee": "assignee_id"}

DUPLICATE_MESSAGES = {
    "phone": gettext_lazy("Another customer has this phone number."),
    "email": gettext_lazy("Another customer has this email."),
}


def _customer_data(fields: dict[str, Any]) -> dict[str, Any]:
    """API field names → the service's."""
    service_names = {api_name: name for name, api_name in API_FIELD_NAMES.items()}
    return {service_names.get(field, field): value for field, value in fields.items()}


def _with_api_field_names(error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    # The same class: a StateConflict stays a 409.
    return type(error)(
        {API_FIELD_NAMES.get(field, field): items for field, items in error.error_dict.items()}
    )


def _warnings(
    request: WorkspaceRequest, customer: Customer, *, before: Customer | None, sent: dict[str, Any]
) -> list[dict[str, Any]]:
    """Other customers with a phone or email this request set or changed (the page's duplicate warning)."""
    duplicates = selectors.customer_duplicates(
        workspace=request.workspace,
        phone=customer.phone if "phone" in sent else "",
        email=customer.email if "email" in sent else "",
        customer=before,
        exclude_ids=[customer.pk],
    )
    warnings = []
    for duplicate in duplicates:
        for field in ("phone", "email"):
            value = getattr(customer, field)
            if field in sent and value and getattr(duplicate, field) == value:
                warnings.append(
                    {
                        "code": "possible_duplicate",
                        "field": field,
                        "message": str(DUPLICATE_MESSAGES[field]),
                        "customer": {"id": duplicate.pk, "full_name": duplicate.full_name},
                    }
                )
    return warnings


def _written(
    request: WorkspaceRequest, customer_id: int, *, before: Customer | None, sent: dict[str, Any]
) -> dict[str, Any]:
    customer = selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    body = CustomerOut.model_validate(customer).model_dump()
    body["warnings"] = _warnings(request, customer, before=before, sent=sent)
    return json_rendered(body)


# --- Customers -----------------------------------------------------------------------------------------


@router.get(
    "/customers",
    response={200: CustomerListOut, 400: ProblemOut, **COMMON_ERRORS},
    summary="List customers",
    description=(
        "The All customers list with the same filters as the page. Keyset paging both ways: follow "
        "`next_cursor` with the same filters until it is null, or `previous_cursor` back to the first page "
        "(where it is null); `position` counts the rows before the page."
    ),
)
def customer_list(request: WorkspaceRequest, query: Query[CustomerListQuery]) -> dict[str, Any]:
    try:
        filters = query.filters()
    except FilterError as error:
        raise ApiProblem.invalid_filter({name: [message] for name, message in error.errors.items()}) from None
    page = selectors.customer_page(
        workspace=request.workspace, filters=filters, cursor=query.cursor or None, limit=query.limit
    )
    prefetch_related_objects(page.items, "identities")
    count = selectors.customer_count(workspace=request.workspace, filters=filters, first_page=page)
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
        "position": page.position,
        "total": count.value,
        "total_is_estimate": count.is_estimate,
    }


@router.post(
    "/customers",
    response={201: CustomerWriteOut, 409: ProblemOut, 422: ProblemOut, **COMMON_ERRORS},
    summary="Create a customer",
    description=IDEMPOTENCY_DESCRIPTION
    + " `warnings` names other customers with the same phone or email: the customer is created anyway.",
)
def customer_create(
    request: WorkspaceRequest, payload: CustomerIn, idempotency_key: IdempotencyKeyHeader = None
) -> HttpResponse:
    sent = payload.model_dump()

    def create() -> tuple[int, Any]:
        try:
            customer = services.customer_create(
                workspace=request.workspace, actor=request.actor, data=_customer_data(sent)
            )
        except ValidationError as error:
            raise _with_api_field_names(error) from None
        return 201, _written(request, customer.pk, before=None, sent=sent)

    return idempotent_response(
        workspace=request.workspace,
        actor=request.actor,
        endpoint=CREATE_ENDPOINT,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        work=create,
    )


@router.get(
    "/customers/{int:customer_id}",
    response={200: CustomerOut, **READ_ERRORS},
    summary="Read a customer",
    description="A customer merged into another answers `308 Permanent Redirect` to the survivor's address.",
)
def customer_read(request: WorkspaceRequest, customer_id: int) -> Customer | HttpResponse:
    try:
        return selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    except Http404:
        # A merged customer's id leads to the customer it was merged into.
        survivor = selectors.customer_merged_into(workspace=request.workspace, customer_id=customer_id)
        if survivor is None:
            raise
        moved = HttpResponse(status=308)
        moved["Location"] = request.build_absolute_uri(str(survivor))
        return moved


@router.patch(
    "/customers/{int:customer_id}",
    response={200: CustomerWriteOut, **WRITE_ERRORS},
    summary="Update a customer",
    description=(
        "Only the fields sent change; values equal to the stored ones change nothing (and write no audit entry). "
        "A custom property sent as null is cleared. `warnings` names other customers with a phone or email "
        "this request changed to."
    ),
)
def customer_update(request: WorkspaceRequest, customer_id: int, payload: CustomerPatchIn) -> HttpResponse:
    sent = payload.model_dump(exclude_unset=True)
    before = selectors.customer_get(workspace=request.workspace, customer_id=customer_id)
    try:
        services.customer_update(
            workspace=request.workspace,
            actor=request.actor,
            customer_id=customer_id,
            data=_customer_data(sent),
        )
    except ValidationError as error:
        raise _with_api_field_names(error) from None
    # Already rendered, like the create's answer: sent as is, not through the response schema.
    return Response(_written(request, customer_id, before=before, sent=sent), status=200)


@router.delete(
    "/customers/{int:customer_id}",
    response={204: None, **READ_ERRORS},
    summary="Delete a customer",
    description="Moves the customer to the Deleted view, from which it can be restored until it is purged.",
)
def customer_delete(request: WorkspaceRequest, customer_id: int) -> Status[None]:
    deleted = services.customers_delete(
        workspace=request.workspace, actor=request.actor, customer_ids=[customer_id]
    )
    if not deleted:
        raise Http404
    return Status(204, None)


@router.post(
    "/customers/{int:customer_id}/restore",
    response={200: CustomerOut, **READ_ERRORS},
    summary="Restore a deleted customer",
    description="Restoring a customer that is not deleted changes nothing and returns it.",
)
def customer_restore(request: WorkspaceRequest, customer_id: int) -> Customer:
    services.customers_restore(workspace=request.workspace, actor=request.actor, customer_ids=[customer_id])
    return selectors.customer_get(workspace=request.workspace, customer_id=customer_id)


# --- Property definitions ---------------------------------------------------------------------------------


@router.get(
    "/customer-properties",
    response={200: PropertyListOut, **COMMON_ERRORS},
    summary="List customer properties",
    description="Built-in and custom fields in their order. Archived ones only with `include_archived=true`.",
)
def property_list(request: WorkspaceRequest, query: Query[PropertyListQuery]) -> dict[str, Any]:
    return {
        "items": selectors.property_definitions(
            workspace=request.workspace, include_archived=query.include_archived
        )
    }


@router.post(
    "/customer-properties",
    response={201: PropertyOut, 403: ProblemOut, 409: ProblemOut, 422: ProblemOut, **COMMON_ERRORS},
    summary="Create a custom property",
    description="Owners and admins (or an API key). " + IDEMPOTENCY_DESCRIPTION,
)
def property_create(
    request: WorkspaceRequest, payload: PropertyIn, idempotency_key: IdempotencyKeyHeader = None
) -> HttpResponse:
    def create() -> tuple[int, Any]:
        definition = property_services.property_create(
            workspace=request.workspace,
            actor=request.actor,
            label=payload.label,
            key=payload.key,
            kind=payload.kind,
            options=payload.options,
            is_required=payload.is_required,
        )
        return 201, json_rendered(PropertyOut.model_validate(definition).model_dump())

    return idempotent_response(
        workspace=request.workspace,
        actor=request.actor,
        endpoint=PROPERTY_CREATE_ENDPOINT,
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        work=create,
    )


@router.patch(
    "/customer-properties/{int:property_id}",
    response={200: PropertyOut, **PROPERTY_WRITE_ERRORS},
    summary="Update a property",
    description=(
        "Only the fields sent change; values equal to the stored ones change nothing. Built-in fields keep "
        "their name and cannot be made required; they can be hidden, and the status options can be edited."
    ),
)
def property_update(
    request: WorkspaceRequest, property_id: int, payload: PropertyPatchIn
) -> PropertyDefinition:
    return property_services.property_update(
        workspace=request.workspace,
        actor=request.actor,
        property_id=property_id,
        data=payload.model_dump(exclude_unset=True),
    )


@router.post(
    "/customer-properties/{int:property_id}/archive",
    response={200: PropertyOut, **PROPERTY_STATE_ERRORS},
    summary="Archive a custom property",
    description="Values are kept but the property is no longer shown or accepted. Built-in fields cannot be archived.",
)
def property_archive(request: WorkspaceRequest, property_id: int) -> PropertyDefinition:
    return property_services.property_set_archived(
        workspace=request.workspace, actor=request.actor, property_id=property_id, archived=True
    )


@router.post(
    "/customer-properties/{int:property_id}/restore",
    response={200: PropertyOut, **PROPERTY_STATE_ERRORS},
    summary="Restore an archived property",
)
def property_restore(request: WorkspaceRequest, property_id: int) -> PropertyDefinition:
    return property_services.property_set_archived(
        workspace=request.workspace, actor=request.actor, property_id=property_id, archived=False
    )
