"""The workspace app's shell and settings pages, the partner portal shell, and health checks."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relasi.accounts.models import User
from relasi.core.validation import form_add_validation_errors
from relasi.interactions import channels as channel_services
from relasi.interactions import channels_selectors
from relasi.interactions.channels_forms import WhatsAppChannelForm
from relasi.tenancy import selectors as tenancy_selectors
from relasi.tenancy import services as tenancy_services
from relasi.tenancy.access import page_permission_require, workspace_page
from relasi.tenancy.models import Role
from relasi.tenancy.permissions import Permission
from relasi.tenancy.requests import WorkspacePageRequest
from relasi.web.forms import ApiKeyForm, InviteMemberForm, MemberRoleForm


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def home(request: HttpRequest) -> HttpResponse:
    """Send each kind of person to their own front door."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    user = _user(request)
    if tenancy_selectors.memberships_of_user(user=user).exists():
        return redirect("web:workspaces")
    if hasattr(user, "partner"):
        return redirect("partners:dashboard")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "web/no_workspace.html")


@login_required
def workspaces(request: HttpRequest) -> HttpResponse:
    memberships = list(tenancy_selectors.memberships_of_user(user=_user(request)))
    if len(memberships) == 1:
        return redirect("customers:list", workspace_slug=memberships[0].workspace.slug)
    return render(request, "web/workspaces.html", {"memberships": memberships})


@workspace_page()
def workspace_home(request: WorkspacePageRequest) -> HttpResponse:
    return redirect("customers:list", workspace_slug=request.workspace.slug)


@workspace_page()
def settings_members(request: WorkspacePageRequest) -> HttpResponse:
    """Everyone sees the members; owners invite (the service refuses anyone else)."""
    workspace = request.workspace
    invite_form = InviteMemberForm()
    if request.method == "POST":
        page_permission_require(request, Permission.MANAGE_MEMBERS)
        invite_form = InviteMemberForm(request.POST)
        if invite_form.is_valid():
            try:
                tenancy_services.membership_invite(
                    workspace=workspace, actor=request.member, **invite_form.cleaned_data
                )
            except ValidationError as error:
                form_add_validation_errors(invite_form, error)
            else:
                messages.success(
                    request, _("%(email)s was invited.") % {"email": invite_form.cleaned_data["email"]}
                )
                return redirect("web:settings_members", workspace_slug=workspace.slug)
    return render(
        request,
        "web/settings_members.html",
        {
            "section": "members",
            "members": tenancy_selectors.workspace_members(workspace=workspace),
            "invite_form": invite_form,
            "role_choices": Role.choices,
        },
        status=400 if invite_form.errors else 200,
    )


@require_POST
@workspace_page(permission=Permission.MANAGE_MEMBERS)
def settings_member_update(request: WorkspacePageRequest, membership_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        if request.POST.get("action") == "remove":
            tenancy_services.membership_remove(
                workspace=workspace, actor=request.member, membership_id=membership_id
            )
            messages.success(request, _("The member was removed."))
        else:
            form = MemberRoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose owner, admin or agent."))
            else:
                tenancy_services.membership_set_role(
                    workspace=workspace,
                    actor=request.member,
                    membership_id=membership_id,
                    role=form.cleaned_data["role"],
                )
                messages.success(request, _("The role was changed."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("web:settings_members", workspace_slug=workspace.slug)


@require_POST
@workspace_page(permission=Permission.MANAGE_MEMBERS)
def settings_member_invitation_resend(request: WorkspacePageRequest, membership_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        membership = tenancy_services.membership_invitation_resend(
            workspace=workspace, actor=request.member, membership_id=membership_id
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("A new invitation was sent to %(email)s. The link in the earlier one no longer works.")
            % {"email": membership.user.email},
        )
    return redirect("web:settings_members", workspace_slug=workspace.slug)


@require_POST
@workspace_page(permission=Permission.MANAGE_MEMBERS)
def settings_member_invitation_cancel(request: WorkspacePageRequest, membership_id: int) -> HttpResponse:
    workspace = request.workspace
    try:
        tenancy_services.membership_invitation_cancel(
            workspace=workspace, actor=request.member, membership_id=membership_id
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The invitation was cancelled."))
    return redirect("web:settings_members", workspace_slug=workspace.slug)


@require_POST
@workspace_page(permission=Permission.MANAGE_WORKSPACE)
def settings_agent_permissions(request: WorkspacePageRequest) -> HttpResponse:
    allowed = request.POST.get("agents_bulk_actions") == "1"
    tenancy_services.workspace_set_agents_bulk_actions(
        workspace=request.workspace, actor=request.member, allowed=allowed
    )
    if allowed:
        messages.success(request, _("Agents may now import, export and delete customers in bulk."))
    else:
        messages.success(
            request, _("Only owners and admins may now import, export and delete customers in bulk.")
        )
    return redirect("web:settings_members", workspace_slug=request.workspace.slug)


ISSUED_TOKEN_SESSION_KEY = "relasi_issued_api_token"


@workspace_page(permission=Permission.MANAGE_API_KEYS)
def settings_api_keys(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    form = ApiKeyForm()
    # Shown once, on the page the creation redirects to: a reload there cannot create a second key.
    issued_token = request.session.pop(ISSUED_TOKEN_SESSION_KEY, None)
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            issued = tenancy_services.api_key_create(
                workspace=workspace, actor=request.member, name=form.cleaned_data["name"]
            )
            request.session[ISSUED_TOKEN_SESSION_KEY] = issued.token
            return redirect(reverse("web:settings_api_keys", kwargs={"workspace_slug": workspace.slug}))
    return render(
        request,
        "web/settings_api_keys.html",
        {
            "section": "api_keys",
            "api_keys": tenancy_selectors.api_keys_of_workspace(workspace=workspace),
            "form": form,
            "issued_token": issued_token,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@workspace_page(permission=Permission.MANAGE_API_KEYS)
def settings_api_key_revoke(request: WorkspacePageRequest, api_key_id: int) -> HttpResponse:
    workspace = request.workspace
    api_key = tenancy_services.api_key_revoke(
        workspace=workspace, actor=request.member, api_key_id=api_key_id
    )
    messages.success(request, _("The key “%(name)s” was revoked.") % {"name": api_key.name})
    return redirect(reverse("web:settings_api_keys", kwargs={"workspace_slug": workspace.slug}))


@workspace_page(permission=Permission.MANAGE_CHANNELS)
def settings_channels(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    form = WhatsAppChannelForm()
    if request.method == "POST":
        form = WhatsAppChannelForm(request.POST)
        if form.is_valid():
            try:
                channel = channel_services.whatsapp_channel_add(
                    workspace=workspace, actor=request.member, **form.cleaned_data
                )
            except ValidationError as error:
                form_add_validation_errors(form, error)
            else:
                messages.success(
                    request,
                    _("WhatsApp number %(number)s connected. Give Meta its webhook URL below.")
                    % {"number": channel.display_phone_number or channel.phone_number_id},
                )
                return redirect(reverse("web:settings_channels", kwargs={"workspace_slug": workspace.slug}))
    channels = [
        (channel, channels_selectors.whatsapp_webhook_url(channel))
        for channel in channels_selectors.whatsapp_channels_of_workspace(workspace=workspace)
    ]
    return render(
        request,
        "web/settings_channels.html",
        {"section": "channels", "channels": channels, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@workspace_page(permission=Permission.MANAGE_CHANNELS)
def settings_channel_remove(request: WorkspacePageRequest) -> HttpResponse:
    workspace = request.workspace
    # The id comes in the form (no id in the path): anything but a short run of digits is no channel.
    channel_id = request.POST.get("channel_id", "")
    if not channel_id.isdigit() or len(channel_id) > 18:
        raise Http404
    channel = channel_services.whatsapp_channel_remove(
        workspace=workspace, actor=request.member, channel_id=int(channel_id)
    )
    messages.success(
        request,
        _("WhatsApp number %(number)s removed.")
        % {"number": channel.display_phone_number or channel.phone_number_id},
    )
    return redirect(reverse("web:settings_channels", kwargs={"workspace_slug": workspace.slug}))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page: inside the workspace app when the refusal came from a workspace page, with the reason the
    permission module gave (who may do this), else the general sentence."""
    in_workspace = getattr(request, "workspace", None) is not None
    return render(
        request,
        "403.html",
        {
            "base_template": "app_base.html" if in_workspace else "public_base.html",
            "reason": str(exception or ""),
        },
        status=403,
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {error.__class__.__name__}"
    if settings.REDIS_URL:
        checks["broker"] = _broker_status()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _broker_status() -> str:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Browsers and tools ask for /favicon.ico whatever the pages link to.
    return HttpResponseRedirect(static("relasi/favicon.svg"))
