"""The API's body and query parser: what arrives is bounded before any schema or service sees it.

A JSON body must be an object, and no text in it (keys included) may hold a NUL character or a lone surrogate
(broken Unicode that no database can store): such a request is a 422 naming the field, whatever the endpoint.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser

from relasi.core.inputs import NUMBER_MAX_TEXT, NUMBER_RANGE, structure_problem


def _refuse(path: str, reason: str, location: str) -> ValidationError:
    parts = [] if path == "__all__" else path.split(".")
    return ValidationError([{"loc": [location, *parts], "msg": reason, "type": "value_error"}])


class _NumberOutOfRange(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _bounded_int(text: str) -> int:
    # Python refuses to convert integers of more than 4,300 digits (and would take long on fewer): a number this
    # long is out of every range Relasi accepts, so it is refused as such, not as JSON that cannot be read.
    if len(text) > NUMBER_MAX_TEXT:
        raise _NumberOutOfRange(text)
    return int(text)


def _bounded_float(text: str) -> float:
    number = float(text)
    if len(text) > NUMBER_MAX_TEXT or math.isinf(number):
        raise _NumberOutOfRange(text)
    return number


class BoundedParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = json.loads(request.body, parse_int=_bounded_int, parse_float=_bounded_float)
        except _NumberOutOfRange as error:
            shown = error.text if len(error.text) <= NUMBER_MAX_TEXT else error.text[:NUMBER_MAX_TEXT] + "…"
            raise _refuse("__all__", f"The number {shown} is out of range: {NUMBER_RANGE}.", "body") from None
        if not isinstance(data, dict):
            raise _refuse("__all__", "Send a JSON object.", "body")
        found = structure_problem(data)
        if found is not None:
            raise _refuse(*found, "body")
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        found = structure_problem(parsed)
        if found is not None:
            raise _refuse(*found, "query" if data is request.GET else "form")
        return parsed
