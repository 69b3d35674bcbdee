"""What the API's OpenAPI description says about input fields, from the same limits the services check.

The rules stay in the services (relasi.core.inputs and each domain's cleaning), which answer with their own
messages; the schemas only describe them, so a client and a fuzzer know what is accepted. Input schemas refuse
fields they do not know and values of another JSON type (`"5"` for a number, `1` for a boolean): a typo is an
error, not silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

# No NUL character (PostgreSQL cannot store it); and, for a required text, at least one character that is not
# a space (the services trim what they receive).
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def text_rules(max_length: int, *, required: bool = False) -> dict[str, Any]:
    """JSON Schema keywords of a text field: at most `max_length` characters as sent, no NUL, not blank."""
    return {"maxLength": max_length, "pattern": NOT_BLANK if required else NO_NUL}


def _whole(value: Any) -> Any:
    # JSON Schema's integer includes 5.0; strict validation alone would refuse it (and rightly refuses "5").
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer field of an input schema: an int, or a float without a fraction.
WholeNumber = Annotated[int, BeforeValidator(_whole)]


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null", "Send a value, or leave the field out to keep it.")
    return value


# A field a PATCH may leave out but not send as null: `Annotated[T | None, NotNull] = patch_field()`.
NotNull = BeforeValidator(_refuse_null)


def patch_field(*, description: str | None = None, **keywords: Any) -> Any:
    """The default (left out) of a NotNull field, whose schema is that of its type without null, plus `keywords`."""

    def schema_without_null(schema: dict[str, Any]) -> None:
        members = schema.pop("anyOf", None)
        if members:
            schema.update(next(member for member in members if member.get("type") != "null"))
        schema.update(keywords)

    return Field(None, description=description, json_schema_extra=schema_without_null)


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)


def _flag(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("flag", "Use true or false.")


# A boolean query parameter as its description says: `true` or `false`, not pydantic's yes/on/1 as well.
StrictFlag = Annotated[bool, BeforeValidator(_flag)]
