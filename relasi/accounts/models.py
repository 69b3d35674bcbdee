from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who signs in: workspace users, partners and platform staff. Email is the sign-in name."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_staff = models.BooleanField(_("platform staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Sent to the change-password page after sign-in until a new password is set."),
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class SignInThrottle(models.Model):
    """Failed sign-ins for one email from one address; a lock of that pair once the limit is reached.

    Kept in the database so every web process sees the same count. An IPv6 address is kept as its /64 network (one
    client usually holds a whole /64). `counted_failures` says how many of this pair's failures went into the
    account's count (`SignInAccountThrottle`) in the window that started at `counted_window`: one address adds at
    most `SIGN_IN_FAILURE_LIMIT` to it, so a stranger alone never reaches the account's limit.
    """

    email = models.CharField(max_length=254)
    ip_address = models.GenericIPAddressField()
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # A default in the database too, so the previous release's code can still add rows while it runs on.
    counted_failures = models.PositiveIntegerField(default=0, db_default=0)
    counted_window = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email", "ip_address"], name="sign_in_throttle_unique")
        ]

    def __str__(self) -> str:
        return f"{self.email} from {self.ip_address}: {self.failures}"


class SignInAccountThrottle(models.Model):
    """Failed sign-ins for one email from every address in a window; a lock of the email for everyone once the
    account's limit is reached (and again after each failure until the window ends).

    Counted per email whether or not an account has it, so the lock says nothing about who has an account. The
    owner's own new password (reset or change) deletes this row and every pair of the email.
    """

    email = models.CharField(max_length=254, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.email}: {self.failures} since {self.window_started}"
