"""The partner portal. Pages whose module is not built yet say so plainly."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.accounts.views import SignInView
from relasi.core.emails import site_link
from relasi.partners.forms import PartnerSignInForm
from relasi.partners.identity import banks
from relasi.partners.models import Partner
from relasi.partners.selectors import lead_summary, partner_for_user, program_of, programs_of


class PartnerRequest(HttpRequest):
    """A partner portal request of a signed-in partner (`partner_page`)."""

    partner: Partner


class PartnerSignInView(SignInView):
    form_class = PartnerSignInForm
    template_name = "partners/sign_in.html"
    extra_context = {"door": "partners"}

    def get_default_redirect_url(self) -> str:
        return reverse("partners:dashboard")


def partner_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("partners:login"))
        assert isinstance(request.user, User)
        try:
            partner = partner_for_user(user=request.user)
        except Http404:
            # Signed in, but as a workspace user: say so instead of a bare "not found".
            return render(request, "partners/not_partner.html", status=403)
        bound = cast(PartnerRequest, request)
        bound.partner = partner
        return view(bound, *args, **kwargs)

    return wrapper


@partner_page
def dashboard(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    return render(
        request,
        "partners/dashboard.html",
        {
            "section": "dashboard",
            "summary": lead_summary(partner=partner),
            "referral_link": site_link(reverse("referral_link", args=[partner.code])),
            # Commissions arrive with their module (docs/partners.md): nothing is paid before.
            "commission_paid": 0,
        },
    )


@partner_page
def programs(request: PartnerRequest) -> HttpResponse:
    return render(
        request,
        "partners/programs.html",
        {"section": "programs", "rows": programs_of(partner=request.partner)},
    )


@partner_page
def program_detail(request: PartnerRequest, program_id: int) -> HttpResponse:
    partner = request.partner
    return render(
        request,
        "partners/program_detail.html",
        {
            "section": "programs",
            "row": program_of(partner=partner, program_id=program_id),
            "referral_link": site_link(reverse("referral_link", args=[partner.code])),
            "discover_url": settings.PARTNER_PROGRAM_DISCOVER_URL,
        },
    )


@partner_page
def commission(request: HttpRequest) -> HttpResponse:
    return render(request, "partners/not_yet.html", {"section": "commission", "title": _("Commission")})


@partner_page
def profile(request: PartnerRequest) -> HttpResponse:
    partner = request.partner
    return render(
        request,
        "partners/profile.html",
        {"section": "profile", "partner": partner, "bank_name": dict(banks()).get(partner.bank_code, "")},
    )
