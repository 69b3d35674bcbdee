from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from relasi.core.scoping import WorkspaceOwned, WorkspaceScopedManager

if TYPE_CHECKING:
    from relasi.accounts.models import User

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Workspace(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Jakarta", validators=[validate_time_zone]
    )
    withholds_income_tax = models.BooleanField(
        _("withholds income tax"),
        default=False,
        help_text=_("Payments from this workspace have income tax withheld, so top-ups go through support."),
    )
    agents_bulk_actions = models.BooleanField(
        _("agents may import, export and delete in bulk"),
        default=False,
        help_text=_("Owners and admins always may; agents only when the owner allows it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")


class MembershipManager(WorkspaceScopedManager["Membership"]):
    def of_user(self, user: User) -> models.QuerySet[Membership]:
        """Every membership of one person: how their workspaces are found before any workspace is chosen."""
        if user.pk is None:
            raise ValueError("memberships of an unsaved user")
        return models.QuerySet(self.model, using=self._db).filter(user_id=user.pk)


class Membership(WorkspaceOwned):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("workspace")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    # When the last invitation email went out: a resend waits a minute after it.
    invitation_sent_at = models.DateTimeField(_("invitation sent"), null=True, blank=True)

    objects: ClassVar[MembershipManager] = MembershipManager()

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique")]
        ordering = ["workspace", "user__email"]

    def __str__(self) -> str:
        # No words of its own: the back-office shows it in every language (audit rows keep it too).
        return f"{self.user} · {self.workspace}"

    @property
    def is_pending(self) -> bool:
        """The invited person has not set a password yet, so cannot sign in."""
        return invitation_pending(self.user)


def invitation_pending(user: User) -> bool:
    """Someone who never chose a password and never signed in: an invitation not yet taken up.

    Read from the account itself rather than kept on the membership, so setting a password by any way (the
    invitation's link, a reset, the back-office) ends it in every workspace at once.
    """
    return not user.has_usable_password() and user.last_login is None


class ApiKeyManager(WorkspaceScopedManager["ApiKey"]):
    def active_by_prefix(self, prefix: str) -> ApiKey | None:
        """The unrevoked key with this public prefix, whatever its workspace: authentication is how the
        workspace becomes known, so this is the one lookup of keys that cannot be scoped first."""
        rows: models.QuerySet[ApiKey] = models.QuerySet(self.model, using=self._db)
        return rows.select_related("workspace").filter(prefix=prefix, revoked_at__isnull=True).first()

    def record_use(self, api_key: ApiKey, **values: Any) -> None:
        self.for_workspace(api_key.workspace).filter(pk=api_key.pk).update(**values)


class ApiKey(WorkspaceOwned):
    """A workspace's key for the JSON API. Only a hash of the secret is kept; the token is shown once."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("workspace")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects: ClassVar[ApiKeyManager] = ApiKeyManager()

    class Meta(WorkspaceOwned.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
