"""Cells of every CSV Relasi writes (exports, import error files): safe to open in a spreadsheet."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """The value as text, with a leading ' when a spreadsheet would run it as a formula; phone numbers like
    +62812… and negative numbers stay as they are."""
    text = "" if value is None else (", ".join(map(str, value)) if isinstance(value, list) else str(value))
    if text.startswith(FORMULA_START) and not text[1:].replace(" ", "").replace(".", "", 1).isdigit():
        return "'" + text
    return text
