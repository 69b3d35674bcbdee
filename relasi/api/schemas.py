from __future__ import annotations

from ninja import Schema


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None


class WorkspaceOut(Schema):
    slug: str
    name: str
    time_zone: str
    withholds_income_tax: bool
