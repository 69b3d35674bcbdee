"""Keyset (cursor) pagination, both ways: the convention for every list in pages and the API.

A page is "the rows after (or before) these sort values", never an OFFSET, so its cost does not grow with
depth. Each page hands out a `next_cursor` and a `previous_cursor`: opaque, URL-safe tokens that say which way
they go, the sort values of the row they start from, and how many rows come before the page they lead to (the
page's `position`, for "51–100 of 30,258"). Tokens are signed with the secret key and name the list they belong
to (its sort order and a `scope`, e.g. its filters), so a changed or borrowed cursor is refused, not followed.

What `position` means: the number of rows before the page when the list is walked page by page from the first
one. It is carried from page to page, not counted, so it costs nothing at any depth. It is exact while the list
does not change; when rows are added or removed before the page meanwhile it is off by that many, until the walk
goes back to the start: a page with nothing before it is always position 0, and a backward step that would
land at or below 0 while rows remain before it counts them instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db import models
from django.db.models import Q

from relasi.core.inputs import structure_problem

T = TypeVar("T", bound=models.Model)

NEXT = "n"
PREVIOUS = "p"
# Far longer than any cursor Relasi hands out (~200 characters): anything longer is not one of ours.
CURSOR_MAX_LENGTH = 1000

NOT_VALID = "The cursor is not valid."
OTHER_SORT = "The cursor does not match this list's sort order."
OTHER_LIST = "The cursor belongs to another list (other filters): start again from the first page."


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None = None
    # Rows before this page (see the module's docstring for what it means while the list changes).
    position: int = 0

    @property
    def first_number(self) -> int:
        """The 1-based number of the page's first row ("51" of "51–100"); 0 for an empty page."""
        return self.position + 1 if self.items else 0

    @property
    def last_number(self) -> int:
        """The number of the page's last row ("100" of "51–100")."""
        return self.position + len(self.items)


@dataclass(frozen=True)
class Cursor:
    direction: str  # NEXT: rows after `values`; PREVIOUS: rows before them
    values: list[Any]
    # NEXT: rows before the page it leads to. PREVIOUS: rows before the page it was taken from.
    position: int
    # PREVIOUS from an empty page: the row holding `values` belongs to the page before, so it is included.
    inclusive: bool = False


# --- Sort values as JSON ---------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.fromisoformat(value["dt"])
    return value


def cursor_encode(values: list[Any]) -> str:
    """Sort values as an unsigned URL-safe token (the values part of a cursor)."""
    raw = json.dumps([_encode_value(value) for value in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, *, length: int) -> list[Any]:
    """The sort values of `cursor_encode`; InvalidCursor for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as error:
        raise InvalidCursor(NOT_VALID) from error
    return _values_checked(values, length=length)


def _values_checked(values: Any, *, length: int) -> list[Any]:
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor(OTHER_SORT)
    if structure_problem(values) is not None:
        raise InvalidCursor(NOT_VALID)
    try:
        return [_decode_value(value) for value in values]
    except (ValueError, TypeError) as error:
        raise InvalidCursor(NOT_VALID) from error


# --- Signed cursors --------------------------------------------------------------------------------------


def _signer() -> signing.Signer:
    # Built per use: the secret key (and its fallbacks, for rotation) are read from settings when signing.
    return signing.Signer(salt="relasi.core.pagination", sep=".")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cursor_sign(cursor: Cursor, *, ordering: list[str], scope: str = "") -> str:
    payload: dict[str, Any] = {
        "d": cursor.direction,
        "v": [_encode_value(value) for value in cursor.values],
        "p": cursor.position,
        "o": _digest(ordering),
        "s": _digest(scope),
    }
    if cursor.inclusive:
        payload["i"] = 1
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return _signer().sign(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def cursor_read(token: str, *, ordering: list[str], scope: str = "") -> Cursor:
    """The cursor a page of this list handed out; InvalidCursor for a changed, foreign or made-up token."""
    if not isinstance(token, str) or len(token) > CURSOR_MAX_LENGTH:
        raise InvalidCursor(NOT_VALID)
    try:
        body = _signer().unsign(token)
        payload = json.loads(base64.urlsafe_b64decode((body + "=" * (-len(body) % 4)).encode()))
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise InvalidCursor(NOT_VALID) from error
    if not isinstance(payload, dict) or payload.get("d") not in (NEXT, PREVIOUS):
        raise InvalidCursor(NOT_VALID)
    position = payload.get("p")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InvalidCursor(NOT_VALID)
    if payload.get("o") != _digest(ordering):
        raise InvalidCursor(OTHER_SORT)
    if payload.get("s") != _digest(scope):
        raise InvalidCursor(OTHER_LIST)
    values = _values_checked(payload.get("v"), length=len(ordering))
    return Cursor(direction=payload["d"], values=values, position=position, inclusive=payload.get("i") == 1)


# --- Queries ---------------------------------------------------------------------------------------------


def _reversed(ordering: list[str]) -> list[str]:
    return [field[1:] if field.startswith("-") else f"-{field}" for field in ordering]


def _after_condition(ordering: list[str], values: list[Any], *, inclusive: bool = False) -> Q:
    """(a, b, c) after (x, y, z) for mixed directions, as an OR of equal-prefix comparisons.

    `inclusive` also takes the row equal to the values (the last field is unique, so at most one).
    """
    condition = Q()
    last = len(ordering) - 1
    for position, field in enumerate(ordering):
        name = field.lstrip("-")
        lookup = "lt" if field.startswith("-") else "gt"
        if inclusive and position == last:
            lookup += "e"
        step = Q(**{f"{name}__{lookup}": values[position]})
        for previous, previous_field in enumerate(ordering[:position]):
            step &= Q(**{previous_field.lstrip("-"): values[previous]})
        condition |= step
    # The redundant bound on the leading column lets the database walk the index as a range.
    first = ordering[0]
    bound = "lte" if first.startswith("-") else "gte"
    return Q(**{f"{first.lstrip('-')}__{bound}": values[0]}) & condition


def _sort_values(row: models.Model, ordering: list[str]) -> list[Any]:
    return [getattr(row, field.lstrip("-")) for field in ordering]


class _Pager(Generic[T]):
    def __init__(self, queryset: models.QuerySet[T], *, ordering: list[str], limit: int, scope: str) -> None:
        self.queryset = queryset
        self.ordering = ordering
        self.limit = limit
        self.scope = scope

    def token(self, direction: str, row: models.Model, position: int) -> str:
        cursor = Cursor(direction=direction, values=_sort_values(row, self.ordering), position=position)
        return cursor_sign(cursor, ordering=self.ordering, scope=self.scope)

    def first(self) -> Page[T]:
        rows = list(self.queryset.order_by(*self.ordering)[: self.limit + 1])
        items = rows[: self.limit]
        following = self.token(NEXT, items[-1], len(items)) if len(rows) > self.limit else None
        return Page(items=items, next_cursor=following, previous_cursor=None, position=0)

    def after(self, cursor: Cursor) -> Page[T]:
        rows = list(
            self.queryset.order_by(*self.ordering).filter(_after_condition(self.ordering, cursor.values))[
                : self.limit + 1
            ]
        )
        items = rows[: self.limit]
        position = cursor.position
        following = self.token(NEXT, items[-1], position + len(items)) if len(rows) > self.limit else None
        if items:
            preceding = self.token(PREVIOUS, items[0], position)
        else:
            # Every row after the cursor went away meanwhile: "previous" is the page that ends at the cursor's row.
            back = Cursor(direction=PREVIOUS, values=cursor.values, position=position, inclusive=True)
            preceding = cursor_sign(back, ordering=self.ordering, scope=self.scope)
        return Page(items=items, next_cursor=following, previous_cursor=preceding, position=position)

    def before(self, cursor: Cursor) -> Page[T]:
        backwards = _reversed(self.ordering)
        condition = _after_condition(backwards, cursor.values, inclusive=cursor.inclusive)
        rows = list(self.queryset.order_by(*backwards).filter(condition)[: self.limit + 1])
        if len(rows) <= self.limit:
            # Nothing before these rows: this is the first page. A short one (rows added or removed, or a larger
            # `limit` than the walk used) is filled up to a whole first page instead.
            return (
                self.first() if len(rows) < self.limit else self._page(rows[::-1], position=0, at_start=True)
            )
        items = rows[: self.limit][::-1]
        position = cursor.position - len(items)
        if position <= 0:
            # More rows came before the page than the walk counted: count them (rare, and only those).
            before_first = _after_condition(backwards, _sort_values(items[0], self.ordering))
            position = self.queryset.filter(before_first).count()
        return self._page(items, position=position, at_start=False)

    def _page(self, items: list[T], *, position: int, at_start: bool) -> Page[T]:
        # A backward step came from a later page, so there is a next page (unless its rows went away meanwhile:
        # then it comes back empty, with no next cursor).
        return Page(
            items=items,
            next_cursor=self.token(NEXT, items[-1], position + len(items)),
            previous_cursor=None if at_start else self.token(PREVIOUS, items[0], position),
            position=position,
        )


def keyset_page(
    queryset: models.QuerySet[T], *, ordering: list[str], cursor: str | None, limit: int, scope: str = ""
) -> Page[T]:
    """One page of `queryset` ordered by `ordering` (which must end with a unique field, e.g. "-id").

    `cursor` is a `next_cursor` or `previous_cursor` of a page of the same list: the same `ordering` and the same
    `scope` (any text that changes when the rows the list selects do, e.g. its filters); InvalidCursor otherwise.
    Walking forwards or backwards gives the same rows in the same order as one long list.
    """
    pager = _Pager(queryset, ordering=ordering, limit=limit, scope=scope)
    if not cursor:
        return pager.first()
    read = cursor_read(cursor, ordering=ordering, scope=scope)
    return pager.after(read) if read.direction == NEXT else pager.before(read)
