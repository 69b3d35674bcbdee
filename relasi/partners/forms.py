"""Forms of the partner portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from relasi.accounts.forms import SignInForm
from relasi.partners.identity import banks
from relasi.partners.models import ChangeField, EmployeeSize, IdentityType, Partner, Product
from relasi.partners.registration import step_clean


class PartnerSignInForm(SignInForm):
    """The partner portal's door: a workspace user's right password still does not open it."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not Partner.objects.filter(user=user).exists():
            raise forms.ValidationError(
                _("This is not a partner account. Workspace users sign in on the workspace sign-in page."),
                code="not_partner",
            )


class RegistrationStepForm(forms.Form):
    """A registration step: its fields draw the page; its values are checked by relasi.partners.registration,
    which the submission calls again."""

    step = 0

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned.update(step_clean(self.step, {**self.data_for_rules(), **cleaned}))
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                # A field the form already refused (required, too long) keeps that one message.
                if field in self.errors:
                    continue
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned

    def data_for_rules(self) -> dict[str, Any]:
        return {name: self.data.get(name) for name in self.fields}


class AccountStepForm(RegistrationStepForm):
    step = 1
    email = forms.CharField(label=_("Email"), max_length=254)
    # Not required here: the rule says which is missing, in its own words.
    products = forms.MultipleChoiceField(
        label=_("Products you will refer"),
        choices=Product.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class PersonStepForm(RegistrationStepForm):
    step = 2
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=30)
    company_name = forms.CharField(label=_("Company name"), max_length=150)
    employee_size = forms.ChoiceField(label=_("Employees"), choices=[("", "—"), *EmployeeSize.choices])
    position = forms.CharField(label=_("Position"), max_length=100)
    domicile = forms.CharField(label=_("Domicile"), max_length=100)


class IdentityStepForm(RegistrationStepForm):
    step = 3
    identity_type = forms.ChoiceField(
        label=_("Identity"), choices=IdentityType.choices, widget=forms.RadioSelect
    )
    identity_number = forms.CharField(label=_("Identity number"), max_length=40)
    identity_document = forms.FileField(
        label=_("Identity document (JPG, PNG or PDF, at most 1 MB)"), required=False
    )
    bank_account_name = forms.CharField(label=_("Account name"), max_length=150)
    bank_account_number = forms.CharField(label=_("Account number"), max_length=40)
    bank_code = forms.ChoiceField(label=_("Bank"), choices=())
    bank_branch = forms.CharField(label=_("Branch"), max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_code"].choices = [("", "—"), *banks()]  # type: ignore[attr-defined]


class BackgroundStepForm(RegistrationStepForm):
    step = 4
    products_used = forms.MultipleChoiceField(
        label=_("Relasi products you use (if any)"),
        choices=Product.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    similar_software = forms.CharField(
        label=_("Similar software you used before"), max_length=200, required=False
    )
    heard_from = forms.CharField(label=_("Where you heard of the program"), max_length=200, required=False)
    terms = forms.BooleanField(label=_("I agree to the program terms"), required=False)

    def data_for_rules(self) -> dict[str, Any]:
        return {"terms": self.data.get("terms")}


REGISTRATION_FORMS: dict[int, type[RegistrationStepForm]] = {
    1: AccountStepForm,
    2: PersonStepForm,
    3: IdentityStepForm,
    4: BackgroundStepForm,
}


class LeadForm(forms.Form):
    """A lead as the public form and "Add New Lead" take it; relasi.partners.leads checks it."""

    pic_name = forms.CharField(label=_("Contact person"), max_length=150)
    email = forms.CharField(label=_("Email"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=30)
    company_name = forms.CharField(label=_("Company name"), max_length=150)
    employee_size = forms.ChoiceField(
        label=_("Employees"), choices=[("", "—"), *EmployeeSize.choices], required=False
    )
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    product = forms.ChoiceField(label=_("Product of interest"), choices=[("", "—"), *Product.choices])
    notes = forms.CharField(label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea)
    # A field people never see: a robot that fills every field fills it too.
    website = forms.CharField(required=False, max_length=200)


class ChangeRequestForm(forms.Form):
    field = forms.ChoiceField(label=_("Detail to change"), choices=[("", "—"), *ChangeField.choices])
    new_value = forms.CharField(label=_("New value"), max_length=150)
    reason = forms.CharField(label=_("Why (optional)"), max_length=300, required=False)
