"""The top-up pages' forms: they bound what a browser sends (length, digits) and leave every rule of an order to
relasi.billing.pricing and the order services, which the API calls too."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relasi.billing.models import Bank, PaymentMethod
from relasi.billing.pricing import MUV_BLOCK, MUV_MAX, WHATSAPP_MAX

DIGITS_MAX = 16


class WholeNumberField(forms.IntegerField):
    """A whole number typed with or without thousands separators ("1.000.000"), at most 16 digits before Python
    turns it into a number."""

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip().replace(".", "").replace(",", "").replace(" ", "")
        if not text:
            return None
        if len(text) > DIGITS_MAX or not text.isdigit() or not text.isascii():
            raise forms.ValidationError(_("Enter a whole number."), code="invalid")
        return int(text)


class TopUpForm(forms.Form):
    muv_visitors = WholeNumberField(
        label=_("Unique visitors"),
        required=False,
        min_value=0,
        max_value=MUV_MAX,
        help_text=_("In multiples of %(block)d, for this month only.") % {"block": MUV_BLOCK},
    )
    whatsapp_amount = WholeNumberField(
        label=_("WhatsApp balance (rupiah)"),
        required=False,
        min_value=0,
        max_value=WHATSAPP_MAX,
        help_text=_("A smaller amount than the minimum is raised to it."),
    )
    billing_email = forms.EmailField(label=_("Billing email"), max_length=254)


class TaxSupportForm(forms.Form):
    muv_visitors = WholeNumberField(
        label=_("Unique visitors"), required=False, min_value=0, max_value=MUV_MAX
    )
    whatsapp_amount = WholeNumberField(
        label=_("WhatsApp balance (rupiah)"), required=False, min_value=0, max_value=WHATSAPP_MAX
    )
    message = forms.CharField(label=_("Message to support"), required=False, max_length=2000)


class ConfirmForm(forms.Form):
    billing_email = forms.EmailField(label=_("Billing email"), max_length=254)


class PaymentMethodForm(forms.Form):
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    bank = forms.ChoiceField(label=_("Bank"), choices=[("", "—"), *Bank.choices], required=False)
