"""The bulk confirmation's form: the value an action sets, with the very field the customer form shows for it
(members for owner and assignee, the status options, a property's own input), and the count confirmed."""

from __future__ import annotations

import copy
from typing import Any

from django import forms

from relasi.customers.bulk.models_bulk import BulkAction, BulkJob
from relasi.customers.forms import PROPERTY_PREFIX, CustomerForm
from relasi.tenancy.models import Workspace

FORM_FIELDS = {BulkAction.OWNER: "owner", BulkAction.ASSIGNEE: "assignee", BulkAction.STATUS: "status"}


def _customer_form_field(*, workspace: Workspace, job: BulkJob) -> forms.Field | None:
    # An empty form: the field only collects text, the service reads numbers in the viewer's style.
    form = CustomerForm(workspace=workspace)
    if job.action == BulkAction.PROPERTY:
        name = PROPERTY_PREFIX + job.property_key
    else:
        name = FORM_FIELDS.get(BulkAction(job.action), "")
    field = form.fields.get(name)
    return copy.deepcopy(field) if field is not None else None


class BulkConfirmForm(forms.Form):
    """Collects input only: the service checks the value with the customer's rules and the count."""

    expected_total = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=10**9)

    def __init__(self, *args: Any, workspace: Workspace, job: BulkJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("expected_total", job.total)
        field = None
        if job.action not in (BulkAction.DELETE, BulkAction.RESTORE):
            field = _customer_form_field(workspace=workspace, job=job)
            if field is None:
                # Status hidden on the Properties page: still settable here, as a plain choice of its options.
                field = forms.CharField(required=False)
        if field is not None:
            field.required = False
            self.fields["value"] = field

    @property
    def value_field(self) -> forms.BoundField | None:
        return self["value"] if "value" in self.fields else None
