"""The partner portal. Pages whose module is not built yet say so plainly."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relasi.accounts.models import User
from relasi.accounts.services import user_set_password
from relasi.accounts.views import SignInView
from relasi.core.emails import site_link
from relasi.partners.forms import ChangeRequestForm, PartnerSignInForm
from relasi.partners.identity import banks
from relasi.partners.models import Partner
from relasi.partners.profile_changes import change_request_create
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


def _profile_page(
    request: PartnerRequest,
    *,
    password_form: PasswordChangeForm | None = None,
    change_form: ChangeRequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    partner = request.partner
    return render(
        request,
        "partners/profile.html",
        {
            "section": "profile",
            "partner": partner,
            "bank_name": dict(banks()).get(partner.bank_code, ""),
            "password_form": password_form or PasswordChangeForm(user=partner.user),
            "change_form": change_form or ChangeRequestForm(),
            "change_requests": partner.change_requests.all()[:20],
            "open_dialog": "password"
            if password_form is not None
            else "change"
            if change_form is not None
            else "",
        },
        status=status,
    )


@partner_page
def profile(request: PartnerRequest) -> HttpResponse:
    return _profile_page(request)


@require_POST
@partner_page
def profile_password(request: PartnerRequest) -> HttpResponse:
    """Change password from the profile's dialog: current, new, confirmation, with the shared policy."""
    user = request.partner.user
    form = PasswordChangeForm(user=user, data=request.POST)
    if not form.is_valid():
        return _profile_page(request, password_form=form, status=400)
    user_set_password(user=user, password=form.cleaned_data["new_password1"], actor=user)
    update_session_auth_hash(request, user)
    messages.success(request, _("Your password has been changed."))
    return HttpResponseRedirect(reverse("partners:profile"))


@require_POST
@partner_page
def profile_change_request(request: PartnerRequest) -> HttpResponse:
    form = ChangeRequestForm(request.POST)
    if form.is_valid():
        try:
            change_request_create(
                partner=request.partner,
                field=form.cleaned_data["field"],
                new_value=form.cleaned_data["new_value"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your request was sent to Relasi's team."))
            return HttpResponseRedirect(reverse("partners:profile"))
    return _profile_page(request, change_form=form, status=400)
