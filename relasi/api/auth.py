"""API authentication: a workspace API key as a bearer token, or the browser's session.

Either way the request leaves bound as a `WorkspaceRequest` (workspace, actor, membership), and every
endpoint reads data only through that workspace.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.tenancy.requests import workspace_request_bind
from relasi.tenancy.selectors import membership_for_user
from relasi.tenancy.services import api_key_authenticate

WORKSPACE_HEADER = "X-Workspace"


class ApiKeyAuth(HttpBearer):
    openapi_description = "A workspace API key: `Authorization: Bearer rls_…` (Settings › API keys)."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_key = api_key_authenticate(token=token)
        if api_key is None:
            return None
        workspace_request_bind(
            request, workspace=api_key.workspace, actor=Actor(api_key=api_key), membership=None
        )
        return api_key


class WorkspaceSessionAuth(SessionAuth):
    """The signed-in browser user, for the workspace named in the X-Workspace header (CSRF enforced)."""

    openapi_description = (
        "Browser session plus an `X-Workspace: <slug>` header naming one of the user's workspaces."
    )

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if not isinstance(user, User):
            return None
        slug = request.headers.get(WORKSPACE_HEADER, "")
        if not slug:
            return None
        # A workspace the user is not a member of is not found (404), as in the pages: its existence and
        # its objects do not leak, and the signed-in user is not told to sign in again.
        membership = membership_for_user(user=user, workspace_slug=slug)
        workspace_request_bind(
            request, workspace=membership.workspace, actor=Actor(user=user), membership=membership
        )
        return user


api_auth = [ApiKeyAuth(), WorkspaceSessionAuth()]
