"""Row ids sent by a client: only what a database id can be, anything else dropped (never a 500)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The largest id PostgreSQL's bigint (and SQLite's integer) can hold.
LARGEST_ID = 2**63 - 1


def ids_parse(values: Iterable[Any]) -> list[int]:
    """The distinct positive ids among `values`, in their first order: ASCII digits only ("²" and "１" are
    digits to str.isdigit but not to int), and no larger than a database id."""
    found: dict[int, None] = {}
    for value in values:
        text = str(value).strip()
        if text.isascii() and text.isdigit() and len(text) <= 19:
            number = int(text)
            if 0 < number <= LARGEST_ID:
                found[number] = None
    return list(found)
