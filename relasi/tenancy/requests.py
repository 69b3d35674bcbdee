"""The request types that passed workspace access, so views and endpoints read `request.workspace` typed."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.tenancy.models import Membership, Workspace
from relasi.tenancy.permissions import Granted


class WorkspaceRequest(HttpRequest):
    """An API request: a workspace from an API key (no membership) or from a member's session."""

    workspace: Workspace
    actor: Actor
    membership: Membership | None


class WorkspacePageRequest(WorkspaceRequest):
    """A page request of a signed-in member (`workspace_page`)."""

    membership: Membership
    member: User
    may: Granted


def workspace_request_bind(
    request: HttpRequest, *, workspace: Workspace, actor: Actor, membership: Membership | None
) -> WorkspaceRequest:
    bound = cast(WorkspaceRequest, request)
    bound.workspace = workspace
    bound.actor = actor
    bound.membership = membership
    return bound


def workspace_page_request_bind(request: HttpRequest, *, membership: Membership) -> WorkspacePageRequest:
    assert isinstance(request.user, User)
    bound = cast(WorkspacePageRequest, request)
    bound.workspace = membership.workspace
    bound.member = request.user
    bound.actor = Actor(user=request.user)
    bound.membership = membership
    bound.may = Granted.of_membership(membership)
    return bound
