"""Errors as RFC 9457 problem details: type, title, status, detail, and per-field `errors`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from relasi.core.idempotency import IdempotencyKeyReused
from relasi.core.pagination import InvalidCursor
from relasi.core.problems import PROBLEM_BASE, ApiProblem
from relasi.core.validation import validation_error_fields


def problem_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
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
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_name(location: list[Any]) -> str:
    # ninja locations look like ["body", "payload", "email"]; the caller cares about the field path.
    parts = [
        str(part) for part in location if part not in ("body", "query", "path", "header", "payload", "form")
    ]
    return ".".join(parts) or "__all__"


def _request_validation_problem(exc: NinjaValidationError) -> ApiProblem:
    errors: dict[str, list[str]] = {}
    in_query_only = True
    for item in exc.errors:
        location = list(item.get("loc", []))
        in_query_only = in_query_only and bool(location) and location[0] == "query"
        errors.setdefault(_field_name(location), []).append(str(item.get("msg", "Invalid value.")))
    # Bad query parameters of a list are a bad request, as when the filters' own rules refuse them.
    return ApiProblem.invalid_filter(errors) if in_query_only else ApiProblem.validation(errors)


def _render(api: NinjaAPI, request: HttpRequest, problem: ApiProblem) -> HttpResponse:
    return problem_response(
        api,
        request,
        status=problem.status,
        slug=problem.slug,
        title=problem.title,
        detail=problem.detail,
        errors=problem.errors,
        headers=problem.headers,
    )


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def on_request_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return _render(api, request, _request_validation_problem(exc))

    @api.exception_handler(DjangoValidationError)
    def on_domain_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return _render(api, request, ApiProblem.validation(validation_error_fields(exc)))

    @api.exception_handler(AuthenticationError)
    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            api,
            request,
            status=401,
            slug="unauthenticated",
            title="Authentication required.",
            detail="Send a valid, unrevoked API key as `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": 'Bearer realm="relasi"'},
        )

    @api.exception_handler(PermissionDenied)
    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem_response(
            api, request, status=403, slug="forbidden", title=str(exc) or "This is not allowed."
        )

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

    @api.exception_handler(IdempotencyKeyReused)
    def on_idempotency_key_reused(request: HttpRequest, exc: IdempotencyKeyReused) -> HttpResponse:
        return problem_response(
            api,
            request,
            status=409,
            slug="idempotency-key-reused",
            title="This Idempotency-Key was used for a different request.",
            detail="Send a new Idempotency-Key for a different body.",
            errors={"Idempotency-Key": ["Already used with another body."]},
        )

    @api.exception_handler(Throttled)
    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        # ninja sets Retry-After on the response it gets back from here.
        return problem_response(
            api,
            request,
            status=429,
            slug="rate-limited",
            title="Too many requests.",
            detail="This API key or user sent more requests than its limit allows; retry after Retry-After seconds.",
        )

    @api.exception_handler(ApiProblem)
    def on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return _render(api, request, exc)

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(api, request, status=exc.status_code, slug="http-error", title=str(exc))
