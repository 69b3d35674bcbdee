from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMPANY = "company", _("Company")


class IdentityType(models.TextChoices):
    # An individual shows their KTP (NIK); a company its NPWP ("NPWP Badan").
    KTP = "ktp", _("KTP (individual)")
    NPWP_COMPANY = "npwp_company", _("Company NPWP (NPWP Badan)")


class EmployeeSize(models.TextChoices):
    UP_TO_10 = "1-10", _("1–10 employees")
    UP_TO_50 = "11-50", _("11–50 employees")
    UP_TO_200 = "51-200", _("51–200 employees")
    UP_TO_1000 = "201-1000", _("201–1,000 employees")
    MORE = "1000+", _("More than 1,000 employees")


class Product(models.TextChoices):
    CRM = "crm", _("Relasi CRM")
    WHATSAPP = "whatsapp", _("Relasi WhatsApp inbox")
    CDP = "cdp", _("Relasi Customer Data Platform")


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


def identity_document_path(instance: Any, filename: str) -> str:
    # A random name in a private folder: nothing in it is served from a public URL (docs/partners.md).
    return f"private/partner-identity/{uuid.uuid4().hex}"


class Partner(models.Model):
    """A referral partner's account, as registered: who they are, their identity document and bank account (staff
    review them), and what they refer."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner")
    code = models.CharField(_("partner code"), max_length=20, unique=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=PartnerKind.choices, default=PartnerKind.INDIVIDUAL
    )
    company_name = models.CharField(_("company"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    products = models.JSONField(_("products to refer"), default=list, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employee_size = models.CharField(_("employees"), max_length=10, choices=EmployeeSize.choices, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    domicile = models.CharField(_("domicile"), max_length=100, blank=True)
    identity_type = models.CharField(_("identity"), max_length=15, choices=IdentityType.choices, blank=True)
    # NIK or NPWP, digits only; one partner per identity (empty for partners made before registration existed).
    identity_number = models.CharField(_("identity number"), max_length=16, blank=True)
    identity_document = models.FileField(
        _("identity document"), upload_to=identity_document_path, max_length=200, blank=True
    )
    identity_document_kind = models.CharField(max_length=10, blank=True)
    bank_code = models.CharField(_("bank"), max_length=20, blank=True)
    bank_account_name = models.CharField(_("account name"), max_length=150, blank=True)
    bank_account_number = models.CharField(_("account number"), max_length=30, blank=True)
    bank_branch = models.CharField(_("branch"), max_length=100, blank=True)
    products_used = models.JSONField(_("Relasi products used"), default=list, blank=True)
    similar_software = models.CharField(_("similar software used before"), max_length=200, blank=True)
    heard_from = models.CharField(_("heard of the program from"), max_length=200, blank=True)
    terms_accepted_at = models.DateTimeField(_("terms accepted"), null=True, blank=True)
    review_status = models.CharField(
        _("identity review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.APPROVED
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["identity_number"],
                condition=~models.Q(identity_number=""),
                name="partner_identity_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.full_name} ({self.code})"

    @property
    def bank_account_masked(self) -> str:
        """The account number as the profile shows it: its last four digits."""
        number = self.bank_account_number
        return f"•••• {number[-4:]}" if len(number) > 4 else number
