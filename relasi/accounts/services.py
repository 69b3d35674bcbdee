"""Writes for accounts: sign-in throttling, passwords."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from relasi.accounts.models import SignInAccountThrottle, SignInThrottle, User
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


def _account_failure_limit() -> int:
    return max(1, settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT)


def _account_window() -> timedelta:
    return settings.SIGN_IN_ACCOUNT_WINDOW


def _account_lockout() -> timedelta:
    return settings.SIGN_IN_ACCOUNT_LOCKOUT


def _still_locked(locked_until: datetime | None, now: datetime) -> datetime | None:
    return locked_until if locked_until is not None and locked_until > now else None


def sign_in_locked_until(*, email: str, ip_address: str) -> datetime | None:
    """Until when sign-in for this email from this address is refused, or None.

    Either lock refuses it: the pair's (too many failures for the email from this address) or the account's
    (too many failures for the email from many addresses). The later end wins.
    """
    now = timezone.now()
    key = _throttle_key(email)
    pair = SignInThrottle.objects.filter(email=key, ip_address=_address_key(ip_address)).first()
    account = SignInAccountThrottle.objects.filter(email=key).first()
    ends = [
        end
        for end in (
            _still_locked(pair.locked_until if pair else None, now),
            _still_locked(account.locked_until if account else None, now),
        )
        if end is not None
    ]
    return max(ends, default=None)


def sign_in_record_failure(*, email: str, ip_address: str) -> datetime | None:
    """Count a failed sign-in for the pair and for the account; lock either once its limit is reached.

    The pair: `SIGN_IN_FAILURE_LIMIT` failures lock the email for this address for `SIGN_IN_LOCKOUT`; the count
    starts afresh once that lock has passed. The account: in a window of `SIGN_IN_ACCOUNT_WINDOW` from its first
    counted failure, each address counts at most `SIGN_IN_FAILURE_LIMIT` failures; at
    `SIGN_IN_ACCOUNT_FAILURE_LIMIT` the email is locked for every address for `SIGN_IN_ACCOUNT_LOCKOUT`, and until
    the window ends every further failure locks it again. Returns the end of the later lock, if any.
    """
    now = timezone.now()
    key = _throttle_key(email)
    per_address_limit = settings.SIGN_IN_FAILURE_LIMIT
    with transaction.atomic():
        # Always the pair first, then the account: one order, so concurrent failures never wait on each other
        # in a circle.
        pair, _created = SignInThrottle.objects.get_or_create(email=key, ip_address=_address_key(ip_address))
        pair = SignInThrottle.objects.select_for_update().get(pk=pair.pk)
        if pair.locked_until is not None and pair.locked_until <= now:
            # An expired lock starts a fresh count.
            pair.failures = 0
            pair.locked_until = None
            pair.save(update_fields=["failures", "locked_until", "updated_at"])
        SignInThrottle.objects.filter(pk=pair.pk).update(failures=F("failures") + 1)
        pair.refresh_from_db()
        if pair.failures >= per_address_limit and pair.locked_until is None:
            pair.locked_until = now + settings.SIGN_IN_LOCKOUT
            pair.save(update_fields=["locked_until", "updated_at"])

        account, _created = SignInAccountThrottle.objects.get_or_create(
            email=key, defaults={"window_started": now}
        )
        account = SignInAccountThrottle.objects.select_for_update().get(pk=account.pk)
        if account.window_started + _account_window() <= now:
            # The window has passed: a fresh count (a lock still running stays).
            account.failures = 0
            account.window_started = now
            account.save(update_fields=["failures", "window_started", "updated_at"])
        if pair.counted_window != account.window_started:
            pair.counted_window = account.window_started
            pair.counted_failures = 0
            pair.save(update_fields=["counted_window", "counted_failures", "updated_at"])
        if pair.counted_failures < per_address_limit:
            SignInThrottle.objects.filter(pk=pair.pk).update(counted_failures=F("counted_failures") + 1)
            SignInAccountThrottle.objects.filter(pk=account.pk).update(failures=F("failures") + 1)
            account.refresh_from_db()
        if account.failures >= _account_failure_limit() and _still_locked(account.locked_until, now) is None:
            account.locked_until = now + _account_lockout()
            account.save(update_fields=["locked_until", "updated_at"])
        ends = [
            end for end in (pair.locked_until, _still_locked(account.locked_until, now)) if end is not None
        ]
        return max(ends, default=None)


def sign_in_record_success(*, email: str, ip_address: str) -> None:
    """A right password from this address: its pair starts afresh. The account's count stays until its window
    ends (a successful sign-in does not undo what other addresses tried)."""
    SignInThrottle.objects.filter(email=_throttle_key(email), ip_address=_address_key(ip_address)).delete()


def sign_in_locks_lift(*, email: str) -> None:
    """Lift every sign-in lock and count of the email: the account's and every address's."""
    key = _throttle_key(email)
    with transaction.atomic():
        # The pairs first, then the account: the order in which a failure takes them.
        SignInThrottle.objects.filter(email=key).delete()
        SignInAccountThrottle.objects.filter(email=key).delete()


def user_set_password(*, user: User, password: str, actor: User | None) -> None:
    """Set a new password (already validated by the form), lift the must-change flag and every sign-in lock.

    Only the owner gets here (the reset link from their mailbox, or their session and old password), so a lock
    that strangers caused ends with it.
    """
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        sign_in_locks_lift(email=user.email)
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
