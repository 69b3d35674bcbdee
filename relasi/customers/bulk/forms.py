"""The bulk confirmation's form: the value an action sets, with the very field the customer form shows for it
(members for owner and assignee, the status options, a property's own input), the explicit "clear" choice, and
the count confirmed.

The value starts on a "Choose…" placeholder that cannot be sent as a value: confirming without a value is refused
(by the service), and clearing the field of every selected customer is the separate `clear` checkbox.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relasi.customers.bulk.models_bulk import ACTION_FIELDS, BulkAction, BulkJob
from relasi.customers.forms import PROPERTY_PREFIX, CustomerForm
from relasi.tenancy.models import Workspace


class PlaceholderSelect(forms.Select):
    """A select whose empty option is a disabled "Choose…": once a value is picked it cannot be picked back to
    empty (clearing is the separate checkbox), and while it is shown the browser sends no value at all."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        if option["value"] in ("", None):
            option["attrs"]["disabled"] = True
        return option


def _customer_form_field(*, workspace: Workspace, job: BulkJob) -> forms.Field | None:
    # An empty form: the field only collects text, the service reads numbers in the viewer's style.
    form = CustomerForm(workspace=workspace)
    if job.action == BulkAction.PROPERTY:
        name = PROPERTY_PREFIX + job.property_key
    else:
        name = ACTION_FIELDS.get(BulkAction(job.action), "")
    field = form.fields.get(name)
    return copy.deepcopy(field) if field is not None else None


def _with_placeholder(field: forms.Field) -> forms.Field:
    """A single choice starts on "Choose…" instead of the customer form's "—" (which there means "none")."""
    if not isinstance(field, forms.ChoiceField) or isinstance(field, forms.MultipleChoiceField):
        return field
    # The customer form gives a plain list of pairs (members, options), whose "—" means "none".
    pairs: list[tuple[Any, Any]] = list(field.choices)  # type: ignore[arg-type]
    choices = [(value, label) for value, label in pairs if value not in ("", None)]
    field.choices = [("", _("Choose…")), *choices]
    field.widget = PlaceholderSelect(attrs=field.widget.attrs, choices=field.choices)
    return field


class BulkConfirmForm(forms.Form):
    """Collects input only: the service checks the value (or the clear) with the customer's rules and the count."""

    expected_total = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=10**9)

    def __init__(
        self, *args: Any, workspace: Workspace, job: BulkJob, clearable: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("expected_total", job.total)
        field = None
        if job.action not in (BulkAction.DELETE, BulkAction.RESTORE):
            field = _customer_form_field(workspace=workspace, job=job)
            if field is None:
                # Status hidden on the Properties page: still settable here, as a plain choice of its options.
                field = forms.CharField(required=False)
        if field is not None:
            # Not required here: an empty value is refused by the service, with the action's own words.
            field.required = False
            self.fields["value"] = _with_placeholder(field)
            if clearable:
                # A required property cannot be cleared (the service refuses it): then it is not offered.
                self.fields["clear"] = forms.BooleanField(
                    required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input", "data-bulk-clear": ""}),
                )

    @property
    def value_field(self) -> forms.BoundField | None:
        return self["value"] if "value" in self.fields else None

    @property
    def clear_field(self) -> forms.BoundField | None:
        return self["clear"] if "clear" in self.fields else None

    @property
    def clearing(self) -> bool:
        """The clear box was ticked (as sent): the confirm button then says what it clears."""
        field = self.clear_field
        return bool(field is not None and field.value())
