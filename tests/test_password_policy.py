from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from relasi.accounts.validators import password_policy_errors


@pytest.mark.parametrize(
    ("password", "code", "message"),
    [
        ("Ab1!xyz", "password_too_short", "The password must be at least 8 characters long."),
        ("Ab1!" + "x" * 67, "password_too_long", "The password must be at most 70 characters long."),
        ("abcdef1!", "password_no_upper", "The password needs an upper-case letter."),
        ("ABCDEF1!", "password_no_lower", "The password needs a lower-case letter."),
        ("Abcdefg!", "password_no_digit", "The password needs a digit."),
        ("Abcdefg1", "password_no_special", "The password needs a special character such as ! @ # $ or *."),
    ],
)
def test_each_rule_broken_alone_is_refused_with_its_own_message(
    password: str, code: str, message: str
) -> None:
    # given a password that breaks exactly one rule
    # when it is checked
    errors = password_policy_errors(password)
    # then exactly that rule is reported, with its message
    assert [error.code for error in errors] == [code]
    assert [error.messages[0] for error in errors] == [message]


@pytest.mark.parametrize("password", ["Abcdef1!", "Ab1!" + "x" * 66, "Kopi_Susu_2026"])
def test_a_password_meeting_every_rule_passes(password: str) -> None:
    assert password_policy_errors(password) == []
    validate_password(password)


def test_django_validation_uses_the_policy() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_password("short")
    assert raised.value.messages == [
        "The password must be at least 8 characters long.",
        "The password needs an upper-case letter.",
        "The password needs a digit.",
        "The password needs a special character such as ! @ # $ or *.",
    ]


@pytest.mark.django_db
def test_production_hasher_is_argon2(settings) -> None:
    from relasi.accounts.models import User

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user("hash@relasi.test", "Abcdef1!", full_name="Hash")
    assert user.password.startswith("argon2$")
    assert user.check_password("Abcdef1!")
