"""Keyset (cursor) pagination: the convention for every list in pages and the API.

A cursor is an opaque, URL-safe token holding the sort values of the last row of the previous
page; the next page is "rows after these values". Unlike OFFSET, the cost does not grow with depth.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q

from relasi.core.inputs import structure_problem

T = TypeVar("T", bound=models.Model)


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.fromisoformat(value["dt"])
    return value


def cursor_encode(values: list[Any]) -> str:
    raw = json.dumps([_encode_value(value) for value in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, *, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as error:
        raise InvalidCursor("The cursor is not valid.") from error
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor("The cursor does not match this list's sort order.")
    if structure_problem(values) is not None:
        raise InvalidCursor("The cursor is not valid.")
    try:
        return [_decode_value(value) for value in values]
    except (ValueError, TypeError) as error:
        raise InvalidCursor("The cursor is not valid.") from error


def _after_condition(ordering: list[str], values: list[Any]) -> Q:
    """(a, b, c) after (x, y, z) for mixed directions, as an OR of equal-prefix comparisons."""
    condition = Q()
    for position, field in enumerate(ordering):
        name = field.lstrip("-")
        lookup = "lt" if field.startswith("-") else "gt"
        step = Q(**{f"{name}__{lookup}": values[position]})
        for previous, previous_field in enumerate(ordering[:position]):
            step &= Q(**{previous_field.lstrip("-"): values[previous]})
        condition |= step
    # The redundant bound on the leading column lets the database walk the index as a range.
    first = ordering[0]
    bound = "lte" if first.startswith("-") else "gte"
    return Q(**{f"{first.lstrip('-')}__{bound}": values[0]}) & condition


def keyset_page(
    queryset: models.QuerySet[T], *, ordering: list[str], cursor: str | None, limit: int
) -> Page[T]:
    """One page of `queryset` ordered by `ordering` (which must end with a unique field, e.g. "-id")."""
    ordered = queryset.order_by(*ordering)
    if cursor:
        ordered = ordered.filter(_after_condition(ordering, cursor_decode(cursor, length=len(ordering))))
    rows = list(ordered[: limit + 1])
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = None
    if has_more and items:
        last = items[-1]
        next_cursor = cursor_encode([getattr(last, field.lstrip("-")) for field in ordering])
    return Page(items=items, next_cursor=next_cursor)
