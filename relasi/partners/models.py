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


class RewardKind(models.TextChoices):
    COMMISSION = "commission", _("Commission")
    # For a partner who is a workspace customer: a discount on their own next invoice.
    DISCOUNT = "discount", _("Subscription discount")


class Program(models.Model):
    """A referral program partners join: the product it refers, its reward and how many paid months earn."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    product = models.CharField(_("product"), max_length=20, choices=Product.choices)
    reward = models.CharField(
        _("reward"), max_length=12, choices=RewardKind.choices, default=RewardKind.COMMISSION
    )
    rate_percent = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    paid_months = models.PositiveSmallIntegerField(_("paid months that earn"), default=12)
    terms = models.TextField(_("terms"), max_length=5000, blank=True)
    active = models.BooleanField(_("open"), default=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CodeApplied(models.Model):
    """A visit of a partner's referral link, once per visitor and day (the visitor's cookie, or a hash of their
    address when cookies are refused)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    visitor = models.CharField(max_length=64)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "day", "visitor"], name="code_applied_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} on {self.day}"


class LeadStage(models.TextChoices):
    NEW = "new", _("New")
    IN_PROCESS = "in_process", _("In process")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LeadSource(models.TextChoices):
    LINK = "link", _("Referral link")
    PARTNER = "partner", _("Added by the partner")


class Lead(models.Model):
    """A company a partner referred. A lead matching an open lead of another partner (company email domain or
    phone, within the attribution window) is kept as a duplicate, attributed to no one: the first partner keeps
    it."""

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="leads"
    )
    referred_by = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("via")
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=10, choices=LeadSource.choices)
    stage = models.CharField(_("stage"), max_length=12, choices=LeadStage.choices, default=LeadStage.NEW)
    pic_name = models.CharField(_("contact person"), max_length=150)
    email = models.EmailField(_("email"), max_length=254)
    email_domain = models.CharField(max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20)
    company_name = models.CharField(_("company"), max_length=150)
    employee_size = models.CharField(_("employees"), max_length=10, choices=EmployeeSize.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    product = models.CharField(_("product of interest"), max_length=20, choices=Product.choices)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    stage_note = models.CharField(_("stage note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    stage_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="lead_partner_recent"),
            models.Index(fields=["email_domain", "created_at"], name="lead_domain"),
            models.Index(fields=["phone", "created_at"], name="lead_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.get_stage_display()})"


class ChangeField(models.TextChoices):
    FULL_NAME = "full_name", _("Full name")
    PHONE = "phone", _("Phone")
    COMPANY_NAME = "company_name", _("Company")
    POSITION = "position", _("Position")
    DOMICILE = "domicile", _("Domicile")
    BANK_ACCOUNT_NAME = "bank_account_name", _("Account name")
    BANK_ACCOUNT_NUMBER = "bank_account_number", _("Account number")
    BANK_BRANCH = "bank_branch", _("Branch")


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for staff")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ChangeRequest(models.Model):
    """A partner asks to change a detail of their profile; staff approve (the change applies, audited) or reject."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="change_requests")
    field = models.CharField(_("detail"), max_length=30, choices=ChangeField.choices)
    old_value = models.CharField(_("was"), max_length=150, blank=True)
    new_value = models.CharField(_("new value"), max_length=150)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.partner.code}: {self.get_field_display()}"
