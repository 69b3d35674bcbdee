"""The interaction records API: for each kind of the table of kinds, list (with the kind's filters, or a customer's
tab), create (idempotent), read and update; and the pipelines with their stages. The six kinds' endpoints are made
from one set of functions; the rules live in the services, the selectors and RecordCleaner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from ninja import Query, Router
from ninja.responses import Response

from relasi.core.api_responses import (
    COMMON_ERRORS,
    IDEMPOTENCY_DESCRIPTION,
    IdempotencyKeyHeader,
    idempotent_response,
    json_rendered,
)
from relasi.core.problems import ProblemOut
from relasi.customers.selectors import customer_get
from relasi.interactions import selectors, services
from relasi.interactions.filters import KIND_FILTERS
from relasi.interactions.kinds import KINDS, KindSpec
from relasi.interactions.models import PIPELINE_KINDS, Pipeline
from relasi.interactions.schemas import (
    RECORD_IN,
    RECORD_LIST_OUT,
    RECORD_LIST_QUERY,
    RECORD_OUT,
    RECORD_PATCH_IN,
    InputSchema,
    PipelineListOut,
    PipelineQuery,
    RecordListQuery,
    api_field_name,
    page_body,
)
from relasi.tenancy.requests import WorkspaceRequest

router = Router(tags=["interactions"])

READ_ERRORS: dict[int, Any] = {**COMMON_ERRORS, 404: ProblemOut}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 422: ProblemOut}
# An Idempotency-Key sent again with another body.
CREATE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 409: ProblemOut}


def kind_path(kind: str) -> str:
    """The kind's collection in URLs: tickets, companies…"""
    return f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"


def _service_data(spec: KindSpec, sent: dict[str, Any]) -> dict[str, Any]:
    """API field names → the cleaner's (`assignee_id` → `assignee`)."""
    names = {api_field_name(field): field.name for field in spec.fields}
    return {names[name]: value for name, value in sent.items() if name in names}


def _with_api_names(spec: KindSpec, error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return error
    names = {field.name: api_field_name(field) for field in spec.fields}
    return ValidationError({names.get(name, name): items for name, items in error.error_dict.items()})


def _related(spec: KindSpec) -> list[str]:
    """What the output shows of each record beyond its own columns: read once for a whole page."""
    people = [field.name for field in spec.fields if field.value_type == "member"]
    staged = ["pipeline", "stage"] if spec.has_pipeline else []
    return ["created_by", "associations", *people, *staged]


def _rendered(request: WorkspaceRequest, spec: KindSpec, record_id: int) -> Any:
    record = selectors.record_get(workspace=request.workspace, kind=spec.kind, record_id=record_id)
    prefetch_related_objects([record], *_related(spec))
    return json_rendered(RECORD_OUT[spec.kind].model_validate(record).model_dump())


def _kind_routes(spec: KindSpec) -> None:
    kind = spec.kind.value
    plural = kind_path(kind)
    path = f"/{plural}"
    one = f"{path}/{{int:record_id}}"
    label = plural

    def record_list(request: WorkspaceRequest, query: Query[RecordListQuery]) -> dict[str, Any]:
        customer = None
        if query.customer is not None:
            customer = customer_get(workspace=request.workspace, customer_id=query.customer)
        page = selectors.records_page(
            workspace=request.workspace,
            kind=kind,
            filters=query.filters(kind),
            customer=customer,
            cursor=query.cursor or None,
            limit=query.limit,
        )
        prefetch_related_objects(page.items, *_related(spec))
        return page_body(page)

    def record_create(
        request: WorkspaceRequest, payload: InputSchema, idempotency_key: IdempotencyKeyHeader = None
    ) -> HttpResponse:
        sent = payload.model_dump(exclude_unset=True)
        customer_ids = sent.pop("customers", [])

        def create() -> tuple[int, Any]:
            try:
                record = services.record_create(
                    workspace=request.workspace,
                    actor=request.actor,
                    kind=kind,
                    data=_service_data(spec, sent),
                    customer_ids=customer_ids,
                )
            except ValidationError as error:
                raise _with_api_names(spec, error) from None
            return 201, _rendered(request, spec, record.pk)

        return idempotent_response(
            workspace=request.workspace,
            actor=request.actor,
            endpoint=f"POST {path}",
            key=idempotency_key,
            payload=payload.model_dump(mode="json"),
            work=create,
        )

    def record_read(request: WorkspaceRequest, record_id: int) -> HttpResponse:
        return Response(_rendered(request, spec, record_id), status=200)

    def record_update(request: WorkspaceRequest, record_id: int, payload: InputSchema) -> HttpResponse:
        # Another workspace's record is a 404 before its values are looked at.
        selectors.record_get(workspace=request.workspace, kind=kind, record_id=record_id)
        try:
            services.record_update(
                workspace=request.workspace,
                actor=request.actor,
                kind=kind,
                record_id=record_id,
                data=_service_data(spec, payload.model_dump(exclude_unset=True)),
            )
        except ValidationError as error:
            raise _with_api_names(spec, error) from None
        return Response(_rendered(request, spec, record_id), status=200)

    out, filters = RECORD_OUT[kind], ", ".join(f"`{name}`" for name in KIND_FILTERS[kind]) or "none"
    list_description = (
        f"The workspace's {label}, most recently changed first, or one customer's (`customer`). Filters: "
        f"{filters}. Keyset paging both ways, as every list."
    )
    update_description = "Only the fields sent change; a save that changes nothing writes nothing."
    routes: list[tuple[Callable[..., Any], str, str, Callable[..., Any], dict[int, Any], str, str]] = [
        (
            router.get,
            path,
            "list",
            record_list,
            {200: RECORD_LIST_OUT[kind], 400: ProblemOut, **READ_ERRORS},
            f"List {label}",
            list_description,
        ),
        (
            router.post,
            path,
            "create",
            record_create,
            {201: out, **CREATE_ERRORS},
            f"Create a {kind}",
            IDEMPOTENCY_DESCRIPTION,
        ),
        (router.get, one, "read", record_read, {200: out, **READ_ERRORS}, f"Read a {kind}", ""),
        (
            router.patch,
            one,
            "update",
            record_update,
            {200: out, **WRITE_ERRORS},
            f"Update a {kind}",
            update_description,
        ),
    ]
    # The kind's own schemas are values of the table: ninja reads a view's parameters from its annotations.
    record_list.__annotations__["query"] = Query[RECORD_LIST_QUERY[kind]]  # type: ignore[misc, valid-type]
    record_create.__annotations__["payload"] = RECORD_IN[kind]
    record_update.__annotations__["payload"] = RECORD_PATCH_IN[kind]
    for method, route, action, view, response, summary, description in routes:
        method(
            route,
            response=response,
            operation_id=f"{plural}_{action}",
            url_name=f"{plural}-{action}",
            summary=summary,
            description=description or None,
        )(view)


for _spec in KINDS.values():
    _kind_routes(_spec)


@router.get(
    "/pipelines",
    response={200: PipelineListOut, **COMMON_ERRORS},
    summary="List pipelines",
    description="The workspace's pipelines of tickets, deals and tasks, each with its stages in order.",
)
def pipeline_list(request: WorkspaceRequest, query: Query[PipelineQuery]) -> dict[str, list[Pipeline]]:
    kinds = [query.kind] if query.kind else [kind.value for kind in PIPELINE_KINDS]
    return {
        "items": [
            pipeline
            for kind in kinds
            for pipeline in selectors.pipelines_of_kind(workspace=request.workspace, kind=kind)
        ]
    }
