"""Registering as a partner, in four steps and a review: each step's values are checked here (the pages' forms call
the same function), and the submission checks them all again, with the document, before making the account —
a partner with a unique code, a user with a temporary password that the first sign-in changes, and the welcome
email."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.accounts.services import user_create
from relasi.core.audit import audit_record
from relasi.core.emails import email_send_templated, site_link
from relasi.core.inputs import text_checked
from relasi.partners.identity import (
    account_name_matches,
    account_number_check,
    banks,
    document_check,
    indonesian_phone_check,
    nik_check,
    npwp_check,
)
from relasi.partners.models import (
    EmployeeSize,
    IdentityType,
    Partner,
    PartnerKind,
    Product,
    ReviewStatus,
)
from relasi.partners.services import partner_create

STEPS = (1, 2, 3, 4)
TEXT_MAX = {
    "full_name": 150,
    "company_name": 150,
    "position": 100,
    "domicile": 100,
    "bank_account_name": 150,
    "bank_branch": 100,
    "similar_software": 200,
    "heard_from": 200,
}
TEMPORARY_PASSWORD_LENGTH = 16


def _text(data: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool = True) -> str:
    try:
        value = text_checked(str(data.get(name) or ""), max_length=TEXT_MAX[name]).strip()
    except ValidationError as error:
        errors[name] = list(error.messages)
        return ""
    if required and not value:
        errors[name] = [_("This field is required.")]
    return value


def _choices(value: object, allowed: list[str]) -> list[str]:
    chosen = value if isinstance(value, list) else []
    return [item for item in allowed if item in chosen]


def step_clean(step: int, data: dict[str, Any]) -> dict[str, Any]:
    """One step's values, normalised; ValidationError naming each field that is wrong."""
    errors: dict[str, list[str]] = {}
    cleaned = {1: _step_account, 2: _step_person, 3: _step_identity, 4: _step_background}[step](data, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _step_account(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    email = str(data.get("email") or "").strip().lower()[:255]
    try:
        text_checked(email, max_length=254)
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter your email address.")]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_("An account with this email exists already: sign in, or use another email.")]
    products = _choices(data.get("products"), Product.values)
    if not products:
        errors["products"] = [_("Choose at least one product to refer.")]
    return {"email": email, "products": products}


def _step_person(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    cleaned = {
        name: _text(data, name, errors) for name in ("full_name", "company_name", "position", "domicile")
    }
    try:
        phone = indonesian_phone_check(str(data.get("phone") or ""))
    except ValidationError as error:
        errors["phone"] = list(error.messages)
        phone = ""
    size = str(data.get("employee_size") or "")
    if size not in EmployeeSize.values:
        errors["employee_size"] = [_("Choose the company's size.")]
    return {**cleaned, "phone": phone, "employee_size": size}


def _step_identity(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    identity_type = str(data.get("identity_type") or "")
    number = ""
    if identity_type not in IdentityType.values:
        errors["identity_type"] = [_("Choose KTP for an individual or the company's NPWP.")]
    else:
        try:
            raw = str(data.get("identity_number") or "")
            number = nik_check(raw) if identity_type == IdentityType.KTP else npwp_check(raw)
        except ValidationError as error:
            errors["identity_number"] = list(error.messages)
        else:
            # A company's NPWP written in 16 digits starts with 0; any other 16 digits are a person's NIK.
            if identity_type == IdentityType.NPWP_COMPANY and not number.startswith("0"):
                errors["identity_number"] = [
                    _("This is a person's NIK: a company registers with its own NPWP (NPWP Badan).")
                ]
            elif Partner.objects.filter(identity_number=number).exists():
                errors["identity_number"] = [_("A partner with this identity number is registered already.")]
    bank_code = str(data.get("bank_code") or "")
    if bank_code not in {code for code, _name in banks()}:
        errors["bank_code"] = [_("Choose the bank.")]
    try:
        account_number = account_number_check(str(data.get("bank_account_number") or ""))
    except ValidationError as error:
        errors["bank_account_number"] = list(error.messages)
        account_number = ""
    return {
        "identity_type": identity_type,
        "identity_number": number,
        "bank_code": bank_code,
        "bank_account_name": _text(data, "bank_account_name", errors),
        "bank_account_number": account_number,
        "bank_branch": _text(data, "bank_branch", errors),
    }


def _step_background(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    if data.get("terms") not in (True, "on", "true", "1"):
        errors["terms"] = [_("Agree to the program terms to register.")]
    return {
        "products_used": _choices(data.get("products_used"), Product.values),
        "similar_software": _text(data, "similar_software", errors, required=False),
        "heard_from": _text(data, "heard_from", errors, required=False),
        "terms": True,
    }


def identity_name_check(values: dict[str, Any]) -> None:
    """The bank account must be in the identity's name: the person's for a KTP, the company's for an NPWP."""
    is_company = values.get("identity_type") == IdentityType.NPWP_COMPANY
    identity_name = values.get("company_name" if is_company else "full_name", "")
    if not account_name_matches(values.get("bank_account_name", ""), identity_name):
        whose = _("the company's name") if is_company else _("your full name")
        raise ValidationError(
            {
                "bank_account_name": [
                    _(
                        "The account name must be %(whose)s as on the identity (“%(name)s”); titles, spacing "
                        "and capitals do not matter."
                    )
                    % {"whose": whose, "name": identity_name}
                ]
            }
        )


@dataclass(frozen=True)
class Document:
    name: str
    content: bytes


def temporary_password() -> str:
    """A random password the policy accepts (upper, lower, digit, special), to be changed at the first sign-in."""
    alphabet = string.ascii_letters + string.digits + "#%+-=@"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(TEMPORARY_PASSWORD_LENGTH))
        if (
            any(char.isupper() for char in candidate)
            and any(char.islower() for char in candidate)
            and any(char.isdigit() for char in candidate)
            and any(char in "#%+-=@" for char in candidate)
        ):
            return candidate


def partner_register(*, data: dict[str, Any], document: Document) -> Partner:
    """Check every step again and the document, then make the partner (waiting for staff's identity review), its
    user with a temporary password, and the welcome email — or change nothing."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for step in STEPS:
        try:
            values.update(step_clean(step, data))
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        kind = document_check(
            name=document.name[:200], head=document.content[:16], size=len(document.content)
        )
    except ValidationError as error:
        errors["identity_document"] = list(error.messages)
    if not errors:
        try:
            identity_name_check(values)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    password = temporary_password()
    try:
        with transaction.atomic():
            partner = _partner_make(values=values, kind=kind, document=document, password=password)
    except IntegrityError:
        # Registered meanwhile (a second tab, a double click): the unique email or identity decided.
        raise ValidationError(
            {"__all__": [_("This email or identity number was registered a moment ago: sign in instead.")]}
        ) from None
    return partner


def _partner_make(*, values: dict[str, Any], kind: str, document: Document, password: str) -> Partner:
    user = user_create(
        email=values["email"],
        full_name=values["full_name"],
        password=password,
        actor=None,
        phone=values["phone"],
        must_change_password=True,
    )
    is_company = values["identity_type"] == IdentityType.NPWP_COMPANY
    partner = partner_create(
        user=user,
        actor=user,
        kind=PartnerKind.COMPANY if is_company else PartnerKind.INDIVIDUAL,
        company_name=values["company_name"],
    )
    for name in (
        "products", "phone", "employee_size", "position", "domicile", "identity_type", "identity_number",
        "bank_code", "bank_account_name", "bank_account_number", "bank_branch", "products_used",
        "similar_software", "heard_from",
    ):  # fmt: skip
        setattr(partner, name, values[name])
    partner.identity_document_kind = kind
    partner.terms_accepted_at = timezone.now()
    partner.review_status = ReviewStatus.PENDING
    partner.identity_document.save(f"identity.{kind}", ContentFile(document.content), save=False)
    partner.save()
    audit_record(
        workspace=None,
        actor=user,
        action="partner.registered",
        target=partner,
        changes={"identity_type": partner.identity_type, "products": partner.products},
    )
    email_send_templated(
        to=[user.email],
        template="partner_welcome",
        context={
            "full_name": user.full_name,
            "email": user.email,
            "password": password,
            "code": partner.code,
            "url": site_link(reverse("partners:login")),
        },
    )
    return partner
