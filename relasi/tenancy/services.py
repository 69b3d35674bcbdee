"""Writes for workspaces, members and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, actor_of, audit_record
from relasi.core.emails import email_send_templated, site_link
from relasi.tenancy.models import ApiKey, Membership, Role, Workspace, invitation_pending
from relasi.tenancy.permissions import Permission, permission_require

API_KEY_PREFIX = "rls"
# Recording every use would write on every request; a coarse last-used time is enough to spot dead keys.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVITATION_RESEND_INTERVAL = timedelta(minutes=1)


def workspace_create(
    *,
    name: str,
    slug: str,
    owner: User,
    actor: User | None,
    time_zone: str = "Asia/Jakarta",
    language: str | None = None,
) -> Workspace:
    """A workspace with its owner. Its first words (the default status options, written by the post-save signal of
    relasi.customers) are in `language`, or in the active language, the creator's, when it is not given."""
    if language is not None and language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}: use one of settings.LANGUAGES.")
    with transaction.atomic(), translation.override(language or translation.get_language()):
        workspace = Workspace(name=name, slug=slug, time_zone=time_zone)
        workspace.full_clean()
        workspace.save()
        Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
        audit_record(workspace=workspace, actor=actor, action="workspace.created", target=workspace)
    return workspace


def workspace_set_agents_bulk_actions(*, workspace: Workspace, actor: User, allowed: bool) -> Workspace:
    """Let agents import, export and delete customers in bulk (owners and admins always may)."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_WORKSPACE)
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        if locked.agents_bulk_actions != allowed:
            audit_record(
                workspace=locked,
                actor=actor,
                action="workspace.agents_bulk_actions_changed",
                target=locked,
                changes={"agents_bulk_actions": [locked.agents_bulk_actions, allowed]},
            )
            locked.agents_bulk_actions = allowed
            locked.save(update_fields=["agents_bulk_actions"])
    workspace.agents_bulk_actions = allowed
    return workspace


def _owner_count(workspace: Workspace) -> int:
    return Membership.objects.for_workspace(workspace).filter(role=Role.OWNER).count()


def membership_invite(
    *, workspace: Workspace, actor: User, email: str, full_name: str, role: str
) -> Membership:
    """Add a person to the workspace. Someone without an account gets one, and an email to set a password;
    until they do, the membership is pending (`Membership.is_pending`)."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose owner, admin or agent.")})
    normalized = email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email=normalized).first()
        if user is None:
            user = User.objects.create_user(normalized, None, full_name=full_name or normalized.split("@")[0])
            audit_record(workspace=workspace, actor=actor, action="user.created", target=user)
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=user, workspace=workspace, role=role, invitation_sent_at=timezone.now()
                )
        except IntegrityError:
            raise ValidationError({"email": _("This person is already a member of the workspace.")}) from None
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.invited",
            target=membership,
            changes={"role": role},
        )
        _invitation_send(workspace=workspace, actor=actor, user=user)
    return membership


def _invitation_send(*, workspace: Workspace, actor: User, user: User) -> None:
    """Queue the invitation email. Someone who has not chosen a password yet (a new account, or one invited
    elsewhere and still pending) gets a link to choose one; anyone else a link to Relasi."""
    context = {
        "workspace_name": workspace.name,
        "inviter_name": actor.full_name,
        "full_name": user.full_name,
        "url": site_link(reverse("web:home")),
        "sets_password": invitation_pending(user),
    }
    if context["sets_password"]:
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        context["url"] = site_link(path)
        context["valid_days"] = settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)
    email_send_templated(to=[user.email], template="member_invited", context=context)


def _pending_membership_for_update(*, workspace: Workspace, membership_id: int) -> Membership:
    membership = _membership_for_update(workspace=workspace, membership_id=membership_id)
    if not membership.is_pending:
        raise ValidationError(
            _("%(email)s has already joined: there is no invitation to resend or cancel.")
            % {"email": membership.user.email}
        )
    return membership


def membership_invitation_resend(*, workspace: Workspace, actor: User, membership_id: int) -> Membership:
    """Send a pending member a new link to choose their password; every earlier link stops working.

    At most once a minute per member, so a double click or an impatient owner does not flood a mailbox.
    """
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_MEMBERS)
    with transaction.atomic():
        membership = _pending_membership_for_update(workspace=workspace, membership_id=membership_id)
        now = timezone.now()
        sent_at = membership.invitation_sent_at
        if sent_at is not None and now - sent_at < INVITATION_RESEND_INTERVAL:
            raise ValidationError(
                _(
                    "An invitation went to %(email)s less than a minute ago. Wait a minute, then send it again."
                )
                % {"email": membership.user.email}
            )
        user = User.objects.select_for_update().get(pk=membership.user_id)
        # The reset token is made from the password field: a fresh unusable password voids the old links.
        user.set_unusable_password()
        user.save(update_fields=["password"])
        membership.invitation_sent_at = now
        membership.save(update_fields=["invitation_sent_at"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.invitation_resent",
            target=membership,
            changes={"email": user.email},
        )
        _invitation_send(workspace=workspace, actor=actor, user=user)
    return membership


def membership_invitation_cancel(*, workspace: Workspace, actor: User, membership_id: int) -> None:
    """Withdraw a pending invitation: the membership goes, and so does the account the invitation made when
    the person belongs nowhere else and never signed in."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_MEMBERS)
    with transaction.atomic():
        membership = _pending_membership_for_update(workspace=workspace, membership_id=membership_id)
        user = User.objects.select_for_update().get(pk=membership.user_id)
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.invitation_cancelled",
            target=membership,
            changes={"email": user.email, "role": membership.role},
        )
        membership.delete()
        if _account_left_unused(user):
            audit_record(
                workspace=workspace,
                actor=actor,
                action="user.deleted",
                target=user,
                changes={"email": user.email},
            )
            user.delete()


def _account_left_unused(user: User) -> bool:
    # Staff and partners have their own doors; an account with any other membership is someone else's too.
    return (
        invitation_pending(user)
        and not user.is_staff
        and not hasattr(user, "partner")
        and not Membership.objects.of_user(user).exists()
    )


def membership_set_role(*, workspace: Workspace, actor: User, membership_id: int, role: str) -> Membership:
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose owner, admin or agent.")})
    with transaction.atomic():
        membership = _membership_for_update(workspace=workspace, membership_id=membership_id)
        if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(workspace) == 1:
            raise ValidationError(_("A workspace needs at least one owner."))
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.role_changed",
            target=membership,
            changes={"role": [previous, role]},
        )
    return membership


def membership_remove(*, workspace: Workspace, actor: User, membership_id: int) -> None:
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_MEMBERS)
    with transaction.atomic():
        membership = _membership_for_update(workspace=workspace, membership_id=membership_id)
        if membership.role == Role.OWNER and _owner_count(workspace) == 1:
            raise ValidationError(_("A workspace needs at least one owner."))
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.removed",
            target=membership,
            changes={"email": membership.user.email, "role": membership.role},
        )
        membership.delete()


def _membership_for_update(*, workspace: Workspace, membership_id: int) -> Membership:
    return Membership.objects.locked_or_404(workspace, membership_id)


def _hash_secret(secret: str) -> str:
    # Secrets are 256-bit random values, so a fast hash cannot be brute-forced and a slow KDF would tax
    # every request; not keyed by SECRET_KEY so that rotating it does not break every integration.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    token: str


def api_key_create(*, workspace: Workspace, actor: Actor | User, name: str) -> IssuedApiKey:
    """Create a key and return its token, which is never stored and cannot be shown again."""
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_API_KEYS)
    clean_name = name.strip()
    if not clean_name:
        raise ValidationError({"name": _("Give the key a name, such as the integration that uses it.")})
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        prefix = secrets.token_hex(4)
        api_key = ApiKey.objects.create(
            workspace=workspace,
            name=clean_name[:100],
            prefix=prefix,
            secret_hash=_hash_secret(secret),
            created_by=actor_of(actor).user,
        )
        audit_record(workspace=workspace, actor=actor, action="api_key.created", target=api_key)
    return IssuedApiKey(api_key=api_key, token=f"{API_KEY_PREFIX}_{prefix}_{secret}")


def api_key_revoke(*, workspace: Workspace, actor: User, api_key_id: int) -> ApiKey:
    permission_require(workspace=workspace, actor=actor, permission=Permission.MANAGE_API_KEYS)
    with transaction.atomic():
        api_key = ApiKey.objects.locked_or_404(workspace, api_key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            audit_record(workspace=workspace, actor=actor, action="api_key.revoked", target=api_key)
    return api_key


def api_key_authenticate(*, token: str) -> ApiKey | None:
    """The active key for a bearer token, or None. Records a coarse last-used time."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    _label, prefix, secret = parts
    api_key = ApiKey.objects.active_by_prefix(prefix)
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash_secret(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.record_use(api_key, last_used_at=now)
        api_key.last_used_at = now
    return api_key
