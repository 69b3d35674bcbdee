"""API problems (RFC 9457 problem details) that endpoints raise; relasi.api renders them."""

from __future__ import annotations

from ninja import Schema

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
        headers: dict[str, str] | None = None,
    ):
        super().__init__(title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors or {}
        self.headers = headers or {}

    @classmethod
    def validation(cls, errors: dict[str, list[str]]) -> ApiProblem:
        """The body (or a form field) is not valid; nothing was changed."""
        return cls(
            status=422,
            slug="validation",
            title="The request is not valid.",
            detail="One or more fields are not valid; see errors.",
            errors=errors,
        )

    @classmethod
    def invalid_filter(cls, errors: dict[str, list[str]]) -> ApiProblem:
        """A list's query parameters are not valid."""
        return cls(
            status=400,
            slug="invalid-filter",
            title="The filters are not valid.",
            detail="One or more query parameters are not valid; see errors.",
            errors=errors,
        )


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None
