"""The API's body and query parser: what arrives is bounded before any schema or service sees it.

A JSON body must be an object, and no text in it (keys included) may hold a NUL character or a lone surrogate
(broken Unicode that no database can store): such a request is a 422 naming the field, whatever the endpoint.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser

from relasi.core.inputs import structure_problem


def _refuse(path: str, reason: str, location: str) -> ValidationError:
    parts = [] if path == "__all__" else path.split(".")
    return ValidationError([{"loc": [location, *parts], "msg": reason, "type": "value_error"}])


class BoundedParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
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
