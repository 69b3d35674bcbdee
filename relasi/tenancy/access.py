"""Access to workspace pages: membership by URL slug, fail-closed (anyone else gets a 404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from relasi.accounts.models import User
from relasi.tenancy.permissions import DENIED_MESSAGES, Permission
from relasi.tenancy.requests import WorkspacePageRequest, workspace_page_request_bind
from relasi.tenancy.selectors import membership_for_user

View = Callable[..., HttpResponseBase]


def workspace_page(*, permission: Permission | None = None) -> Callable[[View], View]:
    """Resolve `workspace_slug` to the user's membership and bind workspace, membership, actor and the
    member's permissions to the request (`WorkspacePageRequest`).

    Not signed in → sign-in page. Not a member → 404. A member without `permission` → 403 (the services
    check again: the page only refuses early, the rule lives in relasi.tenancy.permissions).
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, workspace_slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            assert isinstance(request.user, User)
            membership = membership_for_user(user=request.user, workspace_slug=workspace_slug)
            bound = workspace_page_request_bind(request, membership=membership)
            if permission is not None and permission not in bound.may:
                raise PermissionDenied(str(DENIED_MESSAGES[permission]))
            return view(bound, *args, **kwargs)

        return wrapper

    return decorate


def page_permission_require(request: WorkspacePageRequest, permission: Permission) -> None:
    """For a page whose reading is open to every member but whose form is not: 403 before any work."""
    if permission not in request.may:
        raise PermissionDenied(str(DENIED_MESSAGES[permission]))
