"""One validator per kind of record, for the page, the API and the event ingestion alike (as CustomerCleaner is
for customers): the values a user sends, bounded and checked, turned into model field values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.core.inputs import date_checked, datetime_checked, number_checked, text_checked
from relasi.interactions.kinds import FieldSpec, KindSpec
from relasi.interactions.models import Pipeline, Stage
from relasi.tenancy.models import Workspace
from relasi.tenancy.selectors import workspace_member_ids

# An id sent as text or a number: at most this many digits (a bigint holds 19).
ID_MAX_DIGITS = 18


class RecordCleaner:
    def __init__(self, *, workspace: Workspace, spec: KindSpec) -> None:
        self.workspace = workspace
        self.spec = spec
        self._member_ids: set[int] | None = None

    def clean(self, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Model field values of the fields `data` names (every field on create); ValidationError naming each
        field that is wrong. Unknown keys are refused, not ignored: a misspelt field is a mistake to hear about."""
        errors: dict[str, list[str]] = {}
        unknown = sorted(set(data) - set(self.spec.field_names))
        for name in unknown:
            errors[name[:50]] = [_("There is no such field.")]
        cleaned: dict[str, Any] = {}
        for field in self.spec.fields:
            if field.name not in data:
                if field.required and not partial:
                    errors[field.name] = [_("This field is required.")]
                continue
            try:
                cleaned.update(self._field(field, data[field.name]))
            except ValidationError as error:
                errors[field.name] = list(error.messages)
        if errors:
            raise ValidationError(errors)
        if self.spec.has_pipeline and not partial and "stage" not in cleaned:
            cleaned.update(self._default_stage())
        return cleaned

    def _field(self, field: FieldSpec, value: Any) -> dict[str, Any]:
        empty = value is None or (isinstance(value, str) and not value.strip())
        if empty:
            if field.required:
                raise ValidationError(_("This field is required."))
            return {field.name: self._empty_value(field)}
        if field.value_type == "text":
            return {field.name: text_checked(value, max_length=field.max_length)}
        if field.value_type == "choice":
            return {field.name: self._choice(field, value)}
        if field.value_type == "member":
            return {f"{field.name}_id": self._member(value)}
        if field.value_type == "date":
            return {field.name: date_checked(value)}
        if field.value_type == "datetime":
            return {field.name: _aware(datetime_checked(value), self.workspace)}
        if field.value_type == "rupiah":
            return {field.name: _rupiah(value)}
        return self._stage(value)

    def _empty_value(self, field: FieldSpec) -> Any:
        if field.value_type == "text":
            return ""
        if field.value_type == "rupiah":
            return 0
        if field.value_type == "choice" and field.choices is not None:
            # An optional choice (a company's size) can be emptied; one that always has a value (a status, a
            # priority) goes back to its first option (Open, Medium, None...).
            if getattr(self.spec.model._meta.get_field(field.name), "blank", False):
                return ""
            return next(iter(field.choices)).value
        if field.value_type == "stage":
            raise ValidationError(_("Choose a stage."))
        return None

    def _choice(self, field: FieldSpec, value: Any) -> str:
        assert field.choices is not None
        text = str(value).strip()[:50]
        allowed = {choice.value for choice in field.choices}
        if text not in allowed:
            raise ValidationError(
                _("“%(value)s” is not one of: %(choices)s."),
                params={"value": text, "choices": ", ".join(sorted(allowed))},
            )
        return text

    def _member(self, value: Any) -> int:
        user_id = _id(value)
        if self._member_ids is None:
            self._member_ids = workspace_member_ids(workspace=self.workspace)
        if user_id not in self._member_ids:
            raise ValidationError(_("Choose a member of this workspace."))
        return user_id

    def _stage(self, value: Any) -> dict[str, Any]:
        stage_id = _id(value)
        stage = (
            Stage.objects.for_workspace(self.workspace)
            .select_related("pipeline")
            .filter(pk=stage_id, pipeline__kind=self.spec.kind)
            .first()
        )
        if stage is None:
            raise ValidationError(
                _("Choose a stage of one of this workspace's pipelines for this kind of record.")
            )
        return {"pipeline": stage.pipeline, "stage": stage}

    def _default_stage(self) -> dict[str, Any]:
        pipeline = Pipeline.objects.for_workspace(self.workspace).filter(kind=self.spec.kind).first()
        stage = pipeline.stages.order_by("position", "id").first() if pipeline is not None else None
        if pipeline is None or stage is None:
            raise ValidationError(
                {"stage": [_("This workspace has no pipeline for this kind of record yet.")]}
            )
        return {"pipeline": pipeline, "stage": stage}


def _id(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or len(text) > ID_MAX_DIGITS:
        raise ValidationError(_("“%(value)s” is not an id."), params={"value": text[:30]})
    return int(text)


def _rupiah(value: Any) -> int:
    amount = number_checked(value)
    if not isinstance(amount, int) or amount < 0:
        raise ValidationError(_("Write a whole, positive number of rupiah, like 1500000."))
    return amount


def _aware(moment: datetime, workspace: Workspace) -> datetime:
    # A time without an offset is the workspace's local time, as its people read the clock.
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, workspace.zone)
    return moment
