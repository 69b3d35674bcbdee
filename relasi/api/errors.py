"""Errors as RFC 9457 problem details: type, title, status, detail, and per-field `errors`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from relasi.core.pagination import InvalidCursor

PROBLEM_BASE = "https://relasi.dev/problems/"


class ApiProblem(Exception):
    """Raised by endpoints for a specific, documented problem."""

    def __init__(
        self,
        *,
        status: int,
        slug: str,
        title: str,
        detail: str = "",
        errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors or {}


def problem_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


def _field_name(location: list[Any]) -> str:
    # ninja locations look like ["body", "payload", "email"]; the caller cares about the field path.
    parts = [
        str(part) for part in location if part not in ("body", "query", "path", "header", "payload", "form")
    ]
    return ".".join(parts) or "__all__"


def django_validation_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            field: [str(message) for item in items for message in item.messages]
            for field, items in error.error_dict.items()
        }
    return {"__all__": [str(message) for message in error.messages]}


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def on_request_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors: dict[str, list[str]] = {}
        for item in exc.errors:
            errors.setdefault(_field_name(list(item.get("loc", []))), []).append(
                str(item.get("msg", "Invalid value."))
            )
        return problem_response(
            api,
            request,
            status=422,
            slug="validation",
            title="The request is not valid.",
            detail="One or more fields are not valid; see errors.",
            errors=errors,
        )

    @api.exception_handler(DjangoValidationError)
    def on_domain_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return problem_response(
            api,
            request,
            status=422,
            slug="validation",
            title="The request is not valid.",
            detail="One or more fields are not valid; see errors.",
            errors=django_validation_errors(exc),
        )

    @api.exception_handler(AuthenticationError)
    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem_response(
            api,
            request,
            status=401,
            slug="unauthenticated",
            title="Authentication required.",
            detail="Send a valid, unrevoked API key as `Authorization: Bearer <key>`.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="relasi"'
        return response

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(api, request, status=404, slug="not-found", title="Not found.")

    @api.exception_handler(ObjectDoesNotExist)
    def on_missing_object(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(api, request, status=404, slug="not-found", title="Not found.")

    @api.exception_handler(InvalidCursor)
    def on_bad_cursor(request: HttpRequest, exc: InvalidCursor) -> HttpResponse:
        return problem_response(
            api,
            request,
            status=400,
            slug="invalid-cursor",
            title="The cursor is not valid.",
            detail=str(exc),
            errors={"cursor": [str(exc)]},
        )

    @api.exception_handler(ApiProblem)
    def on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem_response(
            api,
            request,
            status=exc.status,
            slug=exc.slug,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
        )

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(api, request, status=exc.status_code, slug="http-error", title=str(exc))
