"""One way to turn a service's ValidationError into per-field messages, for pages, the API and imports."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError

NON_FIELD = "__all__"


def validation_error_fields(error: ValidationError) -> dict[str, list[str]]:
    """{field: [message, ...]}; errors that name no field are under "__all__"."""
    if hasattr(error, "error_dict"):
        return {
            field: [str(message) for item in items for message in item.messages]
            for field, items in error.error_dict.items()
        }
    return {NON_FIELD: [str(message) for message in error.messages]}


def form_add_validation_errors(
    form: forms.BaseForm, error: ValidationError, *, field_name: Callable[[str], str] = str
) -> None:
    """Show a service's errors next to the form fields they name (anything else above the form), and
    outline those fields. `field_name` maps a service field name to the form's."""
    for field, messages in validation_error_fields(error).items():
        name = field_name(field)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
        if target is not None:
            widget = form.fields[target].widget
            css = widget.attrs.get("class", "")
            if "is-invalid" not in css.split():
                widget.attrs["class"] = f"{css} is-invalid".strip()


class StateConflict(ValidationError):
    """A well-formed request that the data as it stands refuses: a key or a username another record holds, an
    action a built-in field does not allow. Pages show it like any other field error; the API answers 409, since
    the same request could succeed against other data (its schema cannot say otherwise)."""
