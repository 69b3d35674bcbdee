"""The one password policy for every account: workspace users, partners and staff."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_LENGTH = 8
MAX_LENGTH = 70


def password_policy_errors(password: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    if len(password) < MIN_LENGTH:
        errors.append(
            ValidationError(
                _("The password must be at least %(count)d characters long."),
                code="password_too_short",
                params={"count": MIN_LENGTH},
            )
        )
    if len(password) > MAX_LENGTH:
        errors.append(
            ValidationError(
                _("The password must be at most %(count)d characters long."),
                code="password_too_long",
                params={"count": MAX_LENGTH},
            )
        )
    if not any(character.isupper() for character in password):
        errors.append(
            ValidationError(_("The password needs an upper-case letter."), code="password_no_upper")
        )
    if not any(character.islower() for character in password):
        errors.append(ValidationError(_("The password needs a lower-case letter."), code="password_no_lower"))
    if not any(character.isdigit() for character in password):
        errors.append(ValidationError(_("The password needs a digit."), code="password_no_digit"))
    if all(character.isalnum() or character.isspace() for character in password):
        errors.append(
            ValidationError(
                _("The password needs a special character such as ! @ # $ or *."),
                code="password_no_special",
            )
        )
    return errors


class PasswordPolicyValidator:
    def validate(self, password: str, user: Any = None) -> None:
        errors = password_policy_errors(password)
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "8 to 70 characters, with at least one upper-case letter, one lower-case letter, "
            "one digit and one special character."
        )
