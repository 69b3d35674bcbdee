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
from relasi.tenancy.selectors import membership_for_user

View = Callable[..., HttpResponseBase]


def workspace_page(*, managers_only: bool = False) -> Callable[[View], View]:
    """Resolve `workspace_slug` to the user's membership and put workspace and membership on the request.

    Not signed in → sign-in page. Not a member → 404. A member without the right role → 403.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, workspace_slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            assert isinstance(request.user, User)
            membership = membership_for_user(user=request.user, workspace_slug=workspace_slug)
            if managers_only and not membership.can_manage:
                raise PermissionDenied("Only owners and admins can open this page.")
            request.membership = membership  # type: ignore[attr-defined]
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
