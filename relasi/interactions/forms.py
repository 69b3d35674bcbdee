"""The pages' forms of interaction records, made from the table of kinds (relasi.interactions.kinds): one form class
for the six kinds, each FieldSpec's value type giving its widget. Forms collect input only; RecordCleaner in the
services validates it, so pages, the API and ingestion agree on every rule and every message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from relasi.core.validation import form_add_validation_errors
from relasi.customers.forms import CollectedChoiceField
from relasi.interactions.kinds import FieldSpec, KindSpec
from relasi.interactions.models import Pipeline, Record
from relasi.tenancy.models import Workspace

# The widest a text a form sends may be before the cleaner sees it (a hostile post is cut, then refused there).
TEXT_INPUT_MAX = 1000
MESSAGE_MAX = 4096

Choices = list[tuple[str, Any]]


def field_label(spec: KindSpec, name: str) -> str:
    """The model field's own name for it ("Approval status"), in the active language."""
    field = spec.model._meta.get_field(name)
    return str(capfirst(getattr(field, "verbose_name", name)))


def stage_choices(pipelines: list[Pipeline]) -> list[tuple[Any, Any]]:
    """Stages grouped by pipeline (a select's option groups), in the pipelines' order."""
    return [
        (pipeline.name, [(str(stage.pk), stage.name) for stage in pipeline.stages.all()])
        for pipeline in pipelines
    ]


def _form_field(spec: KindSpec, field: FieldSpec, *, members: Choices, stages: list[Any]) -> forms.Field:
    label = field_label(spec, field.name)
    if field.value_type == "choice":
        assert field.choices is not None
        choices: Choices = list(field.choices.choices)
        if not field.required:
            choices = [("", "—"), *choices]
        return CollectedChoiceField(label=label, choices=choices, required=False)
    if field.value_type == "member":
        return CollectedChoiceField(label=label, choices=members, required=False)
    if field.value_type == "stage":
        return CollectedChoiceField(label=label, choices=stages, required=False)
    if field.value_type == "date":
        return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    if field.value_type == "datetime":
        return forms.CharField(
            label=label, required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
        )
    if field.value_type == "rupiah":
        return forms.CharField(
            label=label,
            required=False,
            max_length=40,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "1500000"}),
        )
    widget = forms.Textarea(attrs={"rows": 2}) if field.max_length > 300 else forms.TextInput()
    text = forms.CharField(label=label, required=False, max_length=TEXT_INPUT_MAX, widget=widget, strip=False)
    # The browser stops at the kind's own limit; the form's wider one only bounds what a hostile post sends.
    text.widget.attrs["maxlength"] = str(field.max_length)
    return text


def _shown(field: FieldSpec, record: Record, workspace: Workspace) -> str:
    """A stored value as its widget holds it."""
    if field.value_type in ("member", "stage"):
        value = getattr(record, f"{field.name}_id")
        return "" if value is None else str(value)
    value = getattr(record, field.name)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value, workspace.zone).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class RecordForm(forms.Form):
    """The fields of one kind of record, in the table's order; `service_data()` is what record_create/update take."""

    def __init__(
        self,
        *args: Any,
        spec: KindSpec,
        workspace: Workspace,
        members: Choices,
        pipelines: list[Pipeline],
        record: Record | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        member_choices: Choices = [("", "—"), *members]
        stages = stage_choices(pipelines)
        for field in spec.fields:
            self.fields[field.name] = _form_field(spec, field, members=member_choices, stages=stages)
        if record is not None and not self.is_bound:
            self.initial.update({field.name: _shown(field, record, workspace) for field in spec.fields})
        first = self.fields[spec.title_field if spec.title_field in self.fields else spec.fields[0].name]
        first.widget.attrs["autofocus"] = True
        for name, form_field in self.fields.items():
            css = "form-select" if isinstance(form_field.widget, forms.Select) else "form-control"
            invalid = " is-invalid" if self.is_bound and name in self.errors else ""
            form_field.widget.attrs["class"] = css + invalid

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name, "") for name in self.spec.field_names}
        # No stage chosen: a new record starts in its kind's first stage, a saved one keeps its own.
        stages = [field.name for field in self.spec.fields if field.value_type == "stage"]
        for name in stages:
            if not data.get(name):
                data.pop(name, None)
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        form_add_validation_errors(self, error)


class MessageForm(forms.Form):
    """An outbound message typed on the conversation's page."""

    text = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": str(MESSAGE_MAX)}),
        error_messages={"required": _("Write a message.")},
    )
