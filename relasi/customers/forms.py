"""The customer form: the default fields plus the workspace's shown built-in and custom properties."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from relasi.core.inputs import NUMBER_STYLES, number_text
from relasi.core.validation import form_add_validation_errors
from relasi.customers.models import Channel, Customer, IdentityKind, PropertyDefinition, PropertyKind
from relasi.customers.normalize import display_phone
from relasi.customers.selectors import property_definitions, property_label
from relasi.tenancy.models import Workspace
from relasi.tenancy.selectors import workspace_member_users

PROPERTY_PREFIX = "prop__"


class CollectedChoiceField(forms.ChoiceField):
    """A select whose value the service validates, so every field's error shows at once with one wording."""

    def valid_value(self, value: Any) -> bool:
        return True


class CollectedMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value: Any) -> bool:
        return True


def _custom_field(definition: PropertyDefinition) -> forms.Field:
    common: dict[str, Any] = {"label": property_label(definition), "required": False}
    kind = definition.kind
    if kind == PropertyKind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == PropertyKind.NUMBER:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == PropertyKind.CURRENCY:
        # Whole rupiah: the digits keypad on phones; "Rp" and the thousands separators may be typed or left out.
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "numeric"}), **common)
    if kind == PropertyKind.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == PropertyKind.DATETIME:
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common)
    if kind == PropertyKind.BOOLEAN:
        return CollectedChoiceField(choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))], **common)
    if kind == PropertyKind.SELECT:
        return CollectedChoiceField(
            choices=[("", "—")] + [(option, option) for option in definition.options], **common
        )
    if kind == PropertyKind.MULTISELECT:
        return CollectedMultipleChoiceField(
            choices=[(option, option) for option in definition.options],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == PropertyKind.EMAIL:
        return forms.CharField(widget=forms.EmailInput(), **common)
    if kind == PropertyKind.URL:
        return forms.CharField(widget=forms.URLInput(), **common)
    if kind == PropertyKind.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    return forms.CharField(**common)


def _form_field_name(service_field: str) -> str:
    """The service names custom properties `properties.<key>`; the form names them `prop__<key>`."""
    if service_field.startswith("properties."):
        return PROPERTY_PREFIX + service_field.split(".", 1)[1]
    return service_field


class CustomerForm(forms.Form):
    """Collects input only; CustomerCleaner in services validates it, so form, API and import agree.

    `number_style` is how the viewer writes numbers (their language's, relasi.core.inputs): numbers are shown in
    it and the service reads them in it. Phones are shown in the international style of every page.
    """

    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    owner = CollectedChoiceField(label=_("Owner"), required=False)
    assignee = CollectedChoiceField(label=_("Assignee"), required=False)

    def __init__(
        self,
        *args: Any,
        workspace: Workspace,
        customer: Customer | None = None,
        number_style: str = "plain",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if number_style not in NUMBER_STYLES:
            raise ValueError(f"Unknown number style {number_style!r}: use one of {NUMBER_STYLES}.")
        self.number_style = number_style
        self.fields["full_name"].widget.attrs["autofocus"] = True
        members = [("", "—")] + [
            (str(user.pk), user.full_name or user.email)
            for user in workspace_member_users(workspace=workspace)
        ]
        for name in ("owner", "assignee"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = members
        self.customer = customer
        self.builtin_keys: list[str] = []
        self.property_keys: list[str] = []
        # Custom properties holding whole rupiah, shown "Rp 1.500.000" in the viewer's style.
        self.currency_keys: set[str] = set()
        # Built-in and custom fields in the one order set on the Properties page.
        self.additional_names: list[str] = []
        for definition in property_definitions(workspace=workspace):
            if not definition.is_visible:
                continue
            if definition.is_builtin:
                name = definition.key
                self.fields[name] = self._builtin_field(definition)
                self.builtin_keys.append(definition.key)
            else:
                name = PROPERTY_PREFIX + definition.key
                self.fields[name] = _custom_field(definition)
                self.property_keys.append(definition.key)
                if definition.kind == PropertyKind.CURRENCY:
                    self.currency_keys.add(definition.key)
            self.additional_names.append(name)
        # A stored value its field cannot show as stored (a date-time with an offset): key → (shown text, stored).
        self._reshown: dict[str, tuple[str, Any]] = {}
        if customer is not None:
            self._offer_kept_values(customer)
            self._reshown = self._reshown_values(customer)
            if not self.is_bound:
                self.initial.update(self._initial_from(customer))
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs["class"] = "form-check-input"
            else:
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                invalid = " is-invalid" if self.is_bound and name in self.errors else ""
                widget.attrs["class"] = css + invalid

    @staticmethod
    def _builtin_field(definition: PropertyDefinition) -> forms.Field:
        if definition.key == "source":
            return CollectedChoiceField(
                label=property_label(definition), choices=[("", "—"), *Channel.choices], required=False
            )
        if definition.key == "status":
            return CollectedChoiceField(
                label=property_label(definition),
                choices=[("", "—")] + [(o, o) for o in definition.options],
                required=False,
            )
        if definition.key == "phone":
            widget = forms.TextInput(attrs={"type": "tel"})
        elif definition.key == "zip_code":
            widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"})
        else:
            widget = forms.TextInput()
        return forms.CharField(label=property_label(definition), required=False, widget=widget)

    def _offer_kept_values(self, customer: Customer) -> None:
        """A value whose option was removed stays on the customer: offer it, so that saving keeps it."""
        current: dict[str, Any] = {"status": customer.status}
        current.update({PROPERTY_PREFIX + key: customer.properties.get(key) for key in self.property_keys})
        for name, value in current.items():
            field = self.fields.get(name)
            if not isinstance(field, forms.ChoiceField) or value in (None, "") or isinstance(value, bool):
                continue
            choices: list[tuple[Any, Any]] = list(field.choices)  # type: ignore[arg-type]
            offered = {str(choice) for choice, _label in choices}
            for kept in value if isinstance(value, list) else [value]:
                if str(kept) not in offered:
                    choices.append((kept, _("%(value)s (removed option)") % {"value": kept}))
            field.choices = choices

    def _initial_from(self, customer: Customer) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "full_name": customer.full_name,
            "owner": str(customer.owner_id or ""),
            "assignee": str(customer.assignee_id or ""),
        }
        for key in self.builtin_keys:
            if key == "channel_username":
                identity = (
                    customer.identities.filter(channel=customer.source, kind=IdentityKind.USERNAME)
                    .order_by("-id")
                    .first()
                    if customer.source
                    else None
                )
                initial[key] = identity.external_id if identity else ""
            elif key == "phone":
                initial[key] = display_phone(customer.phone)
            else:
                initial[key] = getattr(customer, key, "")
        for key in self.property_keys:
            initial[PROPERTY_PREFIX + key] = self._shown_value(key, customer.properties.get(key))
        return initial

    def _shown_value(self, key: str, value: Any) -> Any:
        """A stored property value as its field shows it: numbers in the viewer's style, phones international,
        date-times as the browser's date-time field reads them."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int) and key in self.currency_keys and self.number_style != "plain":
            # As pages show money, "Rp 1.500.000"; the service reads it back in the same style.
            return ("-Rp " if value < 0 else "Rp ") + number_text(abs(value), style=self.number_style)
        if isinstance(value, int | float):
            return number_text(value, style=self.number_style)
        if key in self._reshown:
            return self._reshown[key][0]
        field = self.fields.get(PROPERTY_PREFIX + key)
        if isinstance(value, str) and field is not None and getattr(field.widget, "input_type", "") == "tel":
            return display_phone(value)
        return value

    def _reshown_values(self, customer: Customer) -> dict[str, tuple[str, Any]]:
        """The date-time values shown otherwise than stored, with what was stored.

        A `datetime-local` field holds `2026-11-28T23:00`, never an offset: a value the API stored with one
        ("2026-11-28T16:00:00+00:00") would show an empty field, and saving the form would clear it. It is shown
        in the current (the workspace's) time instead, and sent back unchanged it stays as stored.
        """
        reshown: dict[str, tuple[str, Any]] = {}
        for key in self.property_keys:
            stored = customer.properties.get(key)
            field = self.fields.get(PROPERTY_PREFIX + key)
            if not isinstance(stored, str) or field is None:
                continue
            if getattr(field.widget, "input_type", "") != "datetime-local":
                continue
            moment = _datetime_or_none(stored)
            if moment is None:
                continue
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            shown = moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")
            if shown != stored:
                reshown[key] = (shown, stored)
        return reshown

    def service_data(self) -> dict[str, Any]:
        """The cleaned input in the shape services.customer_create/update expect."""
        data: dict[str, Any] = {
            "full_name": self.cleaned_data.get("full_name", ""),
            "owner": self.cleaned_data.get("owner") or None,
        }
        data["assignee"] = self.cleaned_data.get("assignee") or None
        for key in self.builtin_keys:
            data[key] = self.cleaned_data.get(key, "")
        data["properties"] = {key: self.cleaned_data.get(PROPERTY_PREFIX + key) for key in self.property_keys}
        for key, (shown, stored) in self._reshown.items():
            # Sent back as it was shown: the stored value, so that the service sees no change.
            if data["properties"].get(key) == shown:
                data["properties"][key] = stored
        # CustomerCleaner reads the numbers the way the viewer writes them (the API's data never names this).
        data["_number_style"] = self.number_style
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        form_add_validation_errors(self, error, field_name=_form_field_name)

    @property
    def default_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("full_name", "owner", "assignee")]

    @property
    def additional_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.additional_names]


def _datetime_or_none(text: str) -> datetime | None:
    try:
        return parse_datetime(text.strip())
    except ValueError:
        return None
