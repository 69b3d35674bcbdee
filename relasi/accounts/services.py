"""Writes for accounts: sign-in throttling, passwords."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from relasi.accounts.models import SignInThrottle, User
from relasi.core.audit import audit_record


def _throttle_key(email: str) -> str:
    return email.strip().lower()[:254]


def _address_key(ip_address: str) -> str:
    """The address a pair is counted under: an IPv6 address as its /64 network, which one client usually holds
    whole (so rotating through it does not give fresh counts); an IPv4-mapped IPv6 address as the IPv4 one."""
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return "0.0.0.0"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address.packed, 64), strict=False).network_address)
    return str(address)


def sign_in_locked_until(*, email: str, ip_address: str) -> datetime | None:
    """When the email+address pair is locked, until when; otherwise None."""
    row = SignInThrottle.objects.filter(
        email=_throttle_key(email), ip_address=_address_key(ip_address)
    ).first()
    if row is None or row.locked_until is None or row.locked_until <= timezone.now():
        return None
    return row.locked_until


def sign_in_record_failure(*, email: str, ip_address: str) -> datetime | None:
    """Count a failed sign-in; lock the pair once the limit is reached. Returns the lock end if locked."""
    now = timezone.now()
    with transaction.atomic():
        row, _created = SignInThrottle.objects.get_or_create(
            email=_throttle_key(email), ip_address=_address_key(ip_address)
        )
        row = SignInThrottle.objects.select_for_update().get(pk=row.pk)
        if row.locked_until is not None and row.locked_until <= now:
            # An expired lock starts a fresh count.
            row.failures = 0
            row.locked_until = None
            row.save(update_fields=["failures", "locked_until", "updated_at"])
        SignInThrottle.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
        row.refresh_from_db()
        if row.failures >= settings.SIGN_IN_FAILURE_LIMIT and row.locked_until is None:
            row.locked_until = now + settings.SIGN_IN_LOCKOUT
            row.save(update_fields=["locked_until", "updated_at"])
        return row.locked_until


def sign_in_record_success(*, email: str, ip_address: str) -> None:
    SignInThrottle.objects.filter(email=_throttle_key(email), ip_address=_address_key(ip_address)).delete()


def user_set_password(*, user: User, password: str, actor: User | None) -> None:
    """Set a new password (already validated by the form) and lift the must-change flag."""
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit_record(workspace=None, actor=actor, action="user.password_changed", target=user)


def user_create(
    *,
    email: str,
    full_name: str,
    password: str | None,
    actor: User | None,
    phone: str = "",
    is_staff: bool = False,
    must_change_password: bool = False,
) -> User:
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name,
            phone=phone,
            is_staff=is_staff,
            must_change_password=must_change_password,
        )
        audit_record(
            workspace=None, actor=actor, action="user.created", target=user, changes={"email": user.email}
        )
    return user
