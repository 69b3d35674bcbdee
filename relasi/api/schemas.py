from __future__ import annotations

from ninja import Schema


class WorkspaceOut(Schema):
    slug: str
    name: str
    time_zone: str
    withholds_income_tax: bool
