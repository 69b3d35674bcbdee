"""The form of Settings › Channels: collects a WhatsApp number's details; the channel service checks them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class WhatsAppChannelForm(forms.Form):
    phone_number_id = forms.CharField(label=_("Phone number id"), max_length=30)
    display_phone_number = forms.CharField(label=_("Phone number"), max_length=32, required=False)
    app_secret = forms.CharField(label=_("App secret"), max_length=200, widget=forms.PasswordInput)
    verify_token = forms.CharField(label=_("Verify token"), max_length=200)
