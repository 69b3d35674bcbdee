"""The Relasi JSON API, /api/v1/. Each domain package adds its own router here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from relasi.api.auth import api_auth
from relasi.api.errors import install_problem_handlers, problem_response
from relasi.api.openapi import RelasiApi
from relasi.api.parser import BoundedParser
from relasi.api.schemas import WorkspaceOut
from relasi.api.throttling import ClientRateThrottle
from relasi.core.problems import ProblemOut
from relasi.tenancy.models import Workspace
from relasi.tenancy.requests import WorkspaceRequest

api = RelasiApi(
    title="Relasi API",
    version="1",
    description=(
        "Authenticate with a workspace API key (`Authorization: Bearer rls_…`). Errors are problem details "
        "(`application/problem+json`). Lists page with `cursor` and `limit`; follow `next_cursor` until it is null. "
        "Each API key and each signed-in user has a rate limit; over it, a 429 says when to retry (`Retry-After`)."
    ),
    auth=api_auth,
    throttle=[ClientRateThrottle()],
    parser=BoundedParser(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_problem_handlers(api)


@api.get(
    "/workspace",
    response={200: WorkspaceOut, 401: ProblemOut, 429: ProblemOut},
    tags=["workspace"],
    summary="The key's workspace",
)
def workspace_read(request: WorkspaceRequest) -> Workspace:
    return request.workspace


def _add_domain_routers() -> None:
    from relasi.billing.api import router as billing_router
    from relasi.billing.api_top_ups import router as billing_top_ups_router
    from relasi.customers.api import router as customers_router
    from relasi.customers.api_identity import router as customer_identity_router
    from relasi.customers.api_imports import router as customer_imports_router
    from relasi.customers.api_merge import router as customer_merge_router
    from relasi.customers.bulk.api import router as customer_bulk_router
    from relasi.interactions.api import router as interactions_router
    from relasi.interactions.api_customer import router as interactions_customer_router
    from relasi.interactions.api_events import router as events_router
    from relasi.interactions.api_messages import router as interactions_messages_router

    api.add_router("/", customer_identity_router)
    api.add_router("/", customer_merge_router)
    api.add_router("/", customers_router)
    api.add_router("/", customer_imports_router)
    api.add_router("/", customer_bulk_router)
    api.add_router("/", events_router)
    api.add_router("/", interactions_router)
    api.add_router("/", interactions_messages_router)
    api.add_router("/", interactions_customer_router)
    api.add_router("/", billing_router)
    api.add_router("/", billing_top_ups_router)


_add_domain_routers()


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """A path under /api/ that no endpoint answers: the same problem document as any other 404."""
    return problem_response(
        api,
        request,
        status=404,
        slug="not-found",
        title="Not found.",
        detail=f"No endpoint at {request.path}. The endpoints are listed at /api/v1/docs.",
    )
