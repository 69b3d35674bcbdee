"""The referral link /r/<code> with its public lead form, and the portal's "Add New Lead" and lead list. Thin: the
rules are relasi.partners.leads'."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from relasi.accounts.forms import client_address
from relasi.partners.forms import LeadForm
from relasi.partners.leads import code_applied_record, lead_create, lead_form_allowed, lead_referrer
from relasi.partners.models import LeadSource
from relasi.partners.selectors import leads_of, partner_by_code
from relasi.partners.views import PartnerRequest, partner_page

VISITOR_COOKIE = "relasi_visitor"
ATTRIBUTION_COOKIE = "relasi_ref"
VISITOR_COOKIE_SECONDS = 365 * 24 * 3600


def _visitor(request: HttpRequest) -> tuple[str, bool]:
    """The visitor's id from their cookie, or a new one (True: to be set)."""
    known = request.COOKIES.get(VISITOR_COOKIE, "")[:64]
    if known.isalnum():
        return known, False
    return secrets.token_hex(16), True


@require_http_methods(["GET", "POST"])
def referral_link(request: HttpRequest, code: str) -> HttpResponseBase:
    partner = partner_by_code(code=code[:20])
    if partner is None:
        raise Http404
    visitor, new_visitor = _visitor(request)
    status = 200
    form = LeadForm()
    sent = False
    if request.method == "GET":
        code_applied_record(partner=partner, visitor=visitor, day=timezone.localdate())
    else:
        form = LeadForm(request.POST)
        if not lead_form_allowed(address=client_address(request)):
            status = 429
            form.add_error(
                None, _("Too many leads were sent from your network in the last hour. Try again later.")
            )
        elif form.is_valid():
            # The hidden field filled in: a robot. It is told what a person is told, and nothing is kept.
            if not form.cleaned_data["website"]:
                try:
                    lead_create(
                        referrer=lead_referrer(
                            cookie_code=request.COOKIES.get(ATTRIBUTION_COOKIE, ""), linked=partner
                        ),
                        source=LeadSource.LINK,
                        data=form.cleaned_data,
                        actor=None,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
            sent = not form.errors
        status = status if status != 200 or sent else 400
    response = render(
        request, "partners/referral.html", {"partner": partner, "form": form, "sent": sent}, status=status
    )
    if new_visitor:
        response.set_cookie(
            VISITOR_COOKIE, visitor, max_age=VISITOR_COOKIE_SECONDS, httponly=True, samesite="Lax"
        )
    if ATTRIBUTION_COOKIE not in request.COOKIES:
        response.set_cookie(
            ATTRIBUTION_COOKIE,
            partner.code,
            max_age=settings.PARTNER_ATTRIBUTION_DAYS * 24 * 3600,
            httponly=True,
            samesite="Lax",
        )
    return response


@require_http_methods(["GET", "POST"])
@partner_page
def lead_new(request: PartnerRequest) -> HttpResponse:
    form = LeadForm(request.POST) if request.method == "POST" else LeadForm()
    if request.method == "POST" and form.is_valid():
        try:
            lead = lead_create(
                referrer=request.partner,
                source=LeadSource.PARTNER,
                data=form.cleaned_data,
                actor=request.partner.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if lead.partner_id is None:
                messages.warning(
                    request,
                    _(
                        "This company was referred by another partner first: it is recorded, but not as your lead."
                    ),
                )
            else:
                messages.success(request, _("The lead was added."))
            return HttpResponseRedirect(reverse("partners:leads"))
    return render(
        request,
        "partners/lead_new.html",
        {"section": "leads", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@partner_page
def leads(request: PartnerRequest) -> HttpResponse:
    context: dict[str, Any] = {"section": "leads", "leads": leads_of(partner=request.partner)}
    return render(request, "partners/leads.html", context)
