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


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None
