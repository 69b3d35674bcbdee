"""Forms of the Properties menu. They only collect input: the property services validate it (key rules,
reserved and duplicate keys, options of selects), so the page, the API and imports agree."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relasi.customers.models import PropertyDefinition, PropertyKind


def options_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class PropertyNewForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=100, help_text=_("What people see, e.g. Birthday."))
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        help_text=_(
            "Used by imports and the API. Lower-case letters, digits and underscores, starting with a "
            "letter; it cannot be changed later."
        ),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=PropertyKind.choices, initial=PropertyKind.TEXT)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One option per line. Only for single and multi select."),
    )
    is_required = forms.BooleanField(
        label=_("Required"), required=False, help_text=_("A customer cannot be saved without a value.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "pattern": "[a-z][a-z0-9_]*"}
        )


class PropertyEditForm(forms.Form):
    """Label, options, required and shown. Key and type never change: stored values depend on them."""

    label = forms.CharField(label=_("Label"), max_length=100)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One option per line. Customers keep a value whose option you remove."),
    )
    is_required = forms.BooleanField(
        label=_("Required"), required=False, help_text=_("A customer cannot be saved without a value.")
    )
    is_visible = forms.BooleanField(
        label=_("Shown"),
        required=False,
        help_text=_("Hidden fields stay on customers but are left out of forms and the column choices."),
    )

    def __init__(self, *args: Any, definition: PropertyDefinition, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "label": definition.label,
                "options": "\n".join(definition.options),
                "is_required": definition.is_required,
                "is_visible": definition.is_visible,
            },
        )
        super().__init__(*args, **kwargs)
        self.definition = definition
        if definition.is_builtin:
            # Built-in labels are translated for each reader, and whether they are required is the product's rule.
            del self.fields["label"]
            del self.fields["is_required"]
        if not definition.has_editable_options:
            del self.fields["options"]

    def changes(self) -> dict[str, Any]:
        """Only what differs from the stored definition, so the audit log records real changes."""
        definition = self.definition
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        if "label" in self.fields and data["label"].strip() != definition.label:
            changes["label"] = data["label"]
        if "options" in self.fields and options_lines(data["options"]) != definition.options:
            changes["options"] = options_lines(data["options"])
        for flag in ("is_required", "is_visible"):
            if flag in self.fields and data[flag] != getattr(definition, flag):
                changes[flag] = data[flag]
        return changes
