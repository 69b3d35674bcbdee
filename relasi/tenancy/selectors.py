"""Reads for workspaces, members and API keys. A workspace the user is not a member of is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from relasi.accounts.models import User
from relasi.tenancy.models import ApiKey, Membership, Workspace


def membership_for_user(*, user: User, workspace_slug: str) -> Membership:
    """The user's membership of the workspace; Http404 when there is none (never 403: no existence leak)."""
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.of_user(user)
        .select_related("workspace")
        .filter(workspace__slug=workspace_slug)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.of_user(user).select_related("workspace").order_by("workspace__name")


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.for_workspace(workspace).select_related("user").order_by("user__full_name")


def workspace_member_ids(*, workspace: Workspace) -> set[int]:
    return set(Membership.objects.for_workspace(workspace).values_list("user_id", flat=True))


def workspace_member_users(*, workspace: Workspace) -> QuerySet[User]:
    return User.objects.filter(memberships__workspace=workspace).order_by("full_name")


def api_keys_of_workspace(*, workspace: Workspace) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_workspace(workspace).select_related("created_by").order_by("-created_at")
