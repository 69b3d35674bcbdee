"""Errors as RFC 9457 problem details: type, title, status, detail, and per-field `errors`.

Every exception an endpoint (or Django under it) can raise has one entry in PROBLEMS, turning it into an
ApiProblem; one handler renders them all, so no refusal of the API is an HTML page or a bare 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from relasi.core.idempotency import IdempotencyKeyReused
from relasi.core.pagination import InvalidCursor
from relasi.core.problems import PROBLEM_BASE, ApiProblem
from relasi.core.validation import StateConflict, validation_error_fields

PROBLEM_CONTENT_TYPE = "application/problem+json"


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
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    for name, value in (headers or {}).items():
        response[name] = value
    return response


LOCATIONS = ("body", "query", "path", "header", "cookie", "form", "file")


def _field_name(location: list[Any]) -> str:
    # ninja locations look like ["body", "payload", "email"] or ["file", "file"]: where, the parameter's name
    # when the body is one model, then the field path the caller cares about.
    parts = [str(part) for part in location]
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:]
    if parts and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts) or "__all__"


def _request_validation(exc: NinjaValidationError) -> ApiProblem:
    errors: dict[str, list[str]] = {}
    in_query_only = True
    for item in exc.errors:
        location = list(item.get("loc", []))
        in_query_only = in_query_only and bool(location) and location[0] == "query"
        errors.setdefault(_field_name(location), []).append(str(item.get("msg", "Invalid value.")))
    # Bad query parameters of a list are a bad request, as when the filters' own rules refuse them.
    return ApiProblem.invalid_filter(errors) if in_query_only else ApiProblem.validation(errors)


def _malformed(detail: str) -> ApiProblem:
    return ApiProblem(
        status=400, slug="malformed-request", title="The request cannot be read.", detail=detail
    )


def _http_error(exc: HttpError) -> ApiProblem:
    # ninja reports any failure of the body parser as "Cannot parse request body"; when our parser refused a
    # readable body (not an object, a NUL, broken Unicode), say which field instead.
    if isinstance(exc.__cause__, NinjaValidationError):
        return _request_validation(exc.__cause__)
    if exc.status_code == 400 and exc.__cause__ is not None:
        return _malformed(
            "The body is not valid JSON: send a JSON object with Content-Type: application/json."
        )
    return ApiProblem(status=exc.status_code, slug="http-error", title=str(exc))


def _unauthenticated(exc: Exception) -> ApiProblem:
    return ApiProblem(
        status=401,
        slug="unauthenticated",
        title="Authentication required.",
        detail="Send a valid, unrevoked API key as `Authorization: Bearer <key>`.",
        headers={"WWW-Authenticate": 'Bearer realm="relasi"'},
    )


def _not_found(exc: Exception) -> ApiProblem:
    return ApiProblem(status=404, slug="not-found", title="Not found.")


def _conflict(exc: StateConflict) -> ApiProblem:
    errors = validation_error_fields(exc)
    return ApiProblem(
        status=409,
        slug="conflict",
        title="The data as it stands refuses this request.",
        detail=" ".join(message for messages in errors.values() for message in messages),
        errors=errors,
    )


def _too_big(exc: Exception) -> ApiProblem:
    return ApiProblem(
        status=413,
        slug="request-too-large",
        title="The request body is too large.",
        detail=f"Send at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes (files up to the import limit).",
    )


# Looked up along the exception's class hierarchy: StateConflict before the ValidationError it extends.
PROBLEMS: dict[type[Exception], Callable[[Any], ApiProblem]] = {
    ApiProblem: lambda exc: exc,
    NinjaValidationError: _request_validation,
    StateConflict: _conflict,
    DjangoValidationError: lambda exc: ApiProblem.validation(validation_error_fields(exc)),
    AuthenticationError: _unauthenticated,
    PermissionDenied: lambda exc: ApiProblem(
        status=403, slug="forbidden", title=str(exc) or "This is not allowed."
    ),
    Http404: _not_found,
    ObjectDoesNotExist: _not_found,
    InvalidCursor: lambda exc: ApiProblem(
        status=400,
        slug="invalid-cursor",
        title="The cursor is not valid.",
        detail=str(exc),
        errors={"cursor": [str(exc)]},
    ),
    IdempotencyKeyReused: lambda exc: ApiProblem(
        status=409,
        slug="idempotency-key-reused",
        title="This Idempotency-Key was used for a different request.",
        detail="Send a new Idempotency-Key for a different body.",
        errors={"Idempotency-Key": ["Already used with another body."]},
    ),
    # ninja sets Retry-After on the response it gets back.
    Throttled: lambda exc: ApiProblem(
        status=429,
        slug="rate-limited",
        title="Too many requests.",
        detail="This API key or user sent more requests than its limit allows; retry after Retry-After seconds.",
    ),
    RequestDataTooBig: _too_big,
    MultiPartParserError: lambda exc: _malformed(
        "The body is not well-formed for its Content-Type (e.g. multipart without a boundary)."
    ),
    SuspiciousOperation: lambda exc: _malformed("The request is not well-formed."),
    HttpError: _http_error,
}


def _render(
    api: NinjaAPI, problem_of: Callable[[Any], ApiProblem], request: HttpRequest, exc: Exception
) -> HttpResponse:
    problem = problem_of(exc)
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
    for exception_class, problem_of in PROBLEMS.items():
        api.add_exception_handler(exception_class, partial(_render, api, problem_of))
