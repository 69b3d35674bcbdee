"""The API's OpenAPI description, completed with what every endpoint shares so that it says what the server does.

ninja documents each endpoint's own responses as `application/json`. Relasi's errors are problem details
(`application/problem+json`), and some refusals come from the layers every endpoint sits on rather than from the
endpoint: a body that is not JSON or too large, query parameters that are not valid. Those are added here, once,
instead of repeating them on each endpoint (where one forgotten would make the description lie).
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from relasi.api.errors import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemOut"}

# status: (when it applies, its description)
SHARED_REFUSALS: dict[str, tuple[str, str]] = {
    "400": (
        "query or body",
        "The request cannot be read (a body that is not JSON) or a query parameter is not valid.",
    ),
    "413": ("body", "The request body is larger than the API accepts."),
    "422": ("body", "The body is not valid: `errors` names each field and what is wrong with it."),
}
METHODS = ("get", "put", "post", "patch", "delete")


def _problem_content(response: dict[str, Any]) -> None:
    content = response.get("content") or {}
    schema = content.get("application/json", {}).get("schema", PROBLEM_SCHEMA)
    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": schema}}


def _takes(operation: dict[str, Any]) -> set[str]:
    """What the operation reads from the request besides its path: "body" and/or "query"."""
    takes = {"body"} if "requestBody" in operation else set()
    if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
        takes.add("query")
    return takes


def _form_fields_replaced(operation: dict[str, Any]) -> None:
    """An endpoint's `x-relasi-form-fields` replace ninja's description of those multipart fields (e.g. a JSON
    object sent in a form part, which ninja can only call text)."""
    replacements = operation.pop("x-relasi-form-fields", {})
    if not replacements:
        return
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema["properties"].update(replacements)
    schema["required"] = [name for name in schema.get("required", []) if name not in replacements]


def operation_completed(operation: dict[str, Any]) -> None:
    _form_fields_replaced(operation)
    # ninja keys the endpoint's own responses by number; JSON keys are text.
    responses = {str(status): response for status, response in operation.get("responses", {}).items()}
    operation["responses"] = responses
    takes = _takes(operation)
    for status, (applies_to, description) in SHARED_REFUSALS.items():
        if status not in responses and takes & set(applies_to.split(" or ")):
            responses[status] = {"description": description}
    for status, response in responses.items():
        if int(status) >= 400:
            _problem_content(response)


class RelasiApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path_item in schema["paths"].values():
            for method in METHODS:
                if method in path_item:
                    operation_completed(path_item[method])
        return schema
