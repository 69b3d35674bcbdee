"""Who may do what in a workspace: named permissions mapped to roles, in one place.

Services call `permission_require` themselves, so a rule holds whether the page, the API, an import or a
command line asked; pages also check before they render (`workspace_page(permission=...)`) and show or
hide buttons with `Granted`, which reads the same map.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from relasi.core.audit import Actor, actor_of
from relasi.tenancy.models import Membership, Role, Workspace

if TYPE_CHECKING:
    from relasi.accounts.models import User


class Permission(StrEnum):
    MANAGE_MEMBERS = "manage_members"
    MANAGE_WORKSPACE = "manage_workspace"
    MANAGE_API_KEYS = "manage_api_keys"
    # Connecting a WhatsApp number hands its customers' messages to the workspace.
    MANAGE_CHANNELS = "manage_channels"
    MANAGE_PROPERTIES = "manage_properties"
    IMPORT_CUSTOMERS = "import_customers"
    EXPORT_CUSTOMERS = "export_customers"
    BULK_DELETE_CUSTOMERS = "bulk_delete_customers"
    # Error files and exports hold other people's data: their creator may always fetch them, others need this.
    READ_OTHERS_FILES = "read_others_files"
    # Balances, their ledger, orders and invoices: what the workspace spends is for owners and admins.
    VIEW_BILLING = "view_billing"
    # Usage reported from outside systems debits the balances.
    RECORD_USAGE = "record_usage"


BULK_ACTIONS = frozenset(
    {Permission.IMPORT_CUSTOMERS, Permission.EXPORT_CUSTOMERS, Permission.BULK_DELETE_CUSTOMERS}
)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - {Permission.MANAGE_MEMBERS, Permission.MANAGE_WORKSPACE},
    Role.AGENT: frozenset(),
}

# An API key is made by an owner or admin and acts for the workspace, but cannot manage people or keys, and
# reads only the files it made itself (an integration has no business with a person's failed import rows).
API_KEY_PERMISSIONS = BULK_ACTIONS | {
    Permission.MANAGE_PROPERTIES,
    # An integration checks the balances before it sends, and reports the usage it caused.
    Permission.VIEW_BILLING,
    Permission.RECORD_USAGE,
}


def permissions_of_role(*, workspace: Workspace, role: str) -> frozenset[Permission]:
    granted = ROLE_PERMISSIONS.get(role, frozenset())
    if role == Role.AGENT and workspace.agents_bulk_actions:
        granted = granted | BULK_ACTIONS
    return granted


def permissions_of(*, workspace: Workspace, actor: Actor | User | None) -> frozenset[Permission]:
    """What the actor may do in the workspace. A named system job (`Actor(system="purge")`) may do
    everything; no actor at all may do nothing, so a caller that forgot to pass one is refused."""
    if actor is None:
        return frozenset()
    who = actor_of(actor)
    if who.api_key is not None:
        return API_KEY_PERMISSIONS if who.api_key.workspace_id == workspace.pk else frozenset()
    if who.user is None:
        return frozenset(Permission) if who.system else frozenset()
    role = (
        Membership.objects.for_workspace(workspace)
        .filter(user_id=who.user.pk)
        .values_list("role", flat=True)
        .first()
    )
    return permissions_of_role(workspace=workspace, role=role) if role else frozenset()


def permission_granted(*, workspace: Workspace, actor: Actor | User | None, permission: Permission) -> bool:
    return permission in permissions_of(workspace=workspace, actor=actor)


DENIED_MESSAGES: dict[Permission, Promise] = {
    Permission.MANAGE_MEMBERS: _("Only owners can manage the workspace's members."),
    Permission.MANAGE_WORKSPACE: _("Only owners can change the workspace's settings."),
    Permission.MANAGE_API_KEYS: _("Only owners and admins can manage API keys."),
    Permission.MANAGE_CHANNELS: _("Only owners and admins can connect and remove channels."),
    Permission.MANAGE_PROPERTIES: _("Only owners and admins can change customer properties."),
    Permission.IMPORT_CUSTOMERS: _(
        "Only owners and admins can import customers, unless the owner allows agents."
    ),
    Permission.EXPORT_CUSTOMERS: _(
        "Only owners and admins can export customers, unless the owner allows agents."
    ),
    Permission.BULK_DELETE_CUSTOMERS: _(
        "Only owners and admins can delete several customers at once, unless the owner allows agents."
    ),
    Permission.READ_OTHERS_FILES: _("Only the person who made this file, owners and admins can download it."),
    Permission.VIEW_BILLING: _("Only owners and admins can see the workspace's balances and billing."),
    Permission.RECORD_USAGE: _("Only owners, admins and API keys can record usage."),
}


def permission_require(*, workspace: Workspace, actor: Actor | User | None, permission: Permission) -> None:
    """PermissionDenied (a 403 in pages and the API) unless the actor has the permission."""
    if not permission_granted(workspace=workspace, actor=actor, permission=permission):
        raise PermissionDenied(str(DENIED_MESSAGES[permission]))


def file_owner_or_permission_require(
    *,
    workspace: Workspace,
    actor: Actor | User | None,
    made_by_user_id: int | None,
    made_by_api_key_id: int | None,
) -> None:
    """A file someone made (an import's error file, an export) is theirs, and readable by those allowed."""
    who = actor_of(actor)
    if who.user is not None and made_by_user_id is not None and who.user.pk == made_by_user_id:
        return
    if who.api_key is not None and made_by_api_key_id is not None and who.api_key.pk == made_by_api_key_id:
        return
    permission_require(workspace=workspace, actor=who, permission=Permission.READ_OTHERS_FILES)


class Granted:
    """The permissions of one member, for templates: `{% if request.may.manage_properties %}`."""

    def __init__(self, permissions: frozenset[Permission]) -> None:
        self.permissions = permissions

    def __contains__(self, permission: object) -> bool:
        return permission in self.permissions

    def __getattr__(self, name: str) -> bool:
        try:
            return Permission(name) in self.permissions
        except ValueError:
            raise AttributeError(name) from None

    @classmethod
    def of_membership(cls, membership: Membership) -> Granted:
        return cls(permissions_of_role(workspace=membership.workspace, role=membership.role))
