"""Leads: companies partners refer, through their referral link or "Add New Lead". The rules of attribution live
here: a visit of the link counts once per visitor and day; a lead matching an open lead of another partner (the
company's email domain or the phone, within the attribution window) is kept as a duplicate and attributed to no
one — the first partner keeps theirs; a partner cannot refer themselves."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import Actor, audit_record
from relasi.core.inputs import text_checked
from relasi.customers.normalize import normalize_email, normalize_phone
from relasi.partners.models import CodeApplied, EmployeeSize, Lead, LeadSource, LeadStage, Partner, Product
from relasi.partners.selectors import partner_by_code

TEXT_MAX = {"pic_name": 150, "company_name": 150, "industry": 100, "notes": 2000}
# Addresses anyone can have: two leads with them are not the same company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.id", "ymail.com", "hotmail.com", "outlook.com",
        "live.com", "icloud.com", "me.com", "aol.com", "protonmail.com", "proton.me", "mail.com", "zoho.com",
    }
)  # fmt: skip
OPEN_STAGES = (LeadStage.NEW, LeadStage.IN_PROCESS)
# Staff move a lead forward, or close it: New → In process → Won or Lost; New → Lost.
STAGE_MOVES: dict[str, set[str]] = {
    LeadStage.NEW: {LeadStage.IN_PROCESS, LeadStage.LOST},
    LeadStage.IN_PROCESS: {LeadStage.WON, LeadStage.LOST},
    LeadStage.WON: set(),
    LeadStage.LOST: set(),
}


def code_applied_record(*, partner: Partner, visitor: str, day: date) -> bool:
    """Count a visit of the partner's link once per visitor and day; True when this one counted."""
    created = CodeApplied.objects.bulk_create(
        [CodeApplied(partner=partner, visitor=visitor[:64], day=day)], ignore_conflicts=True
    )
    return bool(created and created[0].pk)


def lead_referrer(*, cookie_code: str, linked: Partner) -> Partner:
    """Who a lead sent through `linked`'s link is attributed to: the partner whose link the visitor followed
    first within the window (the attribution cookie's code), else `linked`."""
    code = cookie_code[:20]
    if code and code != linked.code:
        earlier = partner_by_code(code=code)
        if earlier is not None:
            return earlier
    return linked


def lead_form_allowed(*, address: str) -> bool:
    """At most PARTNER_LEAD_FORM_PER_HOUR leads an hour from one address (a counter in the cache, keyed by a hash
    of the address). Counts this one."""
    hashed = hashlib.sha256(address.encode()).hexdigest()[:32]
    key = f"partners:lead-form:{hashed}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    try:
        sent = cache.incr(key)
    except ValueError:
        # Evicted between the add and the increment: this one is the first again.
        cache.set(key, 1, timeout=3600)
        sent = 1
    return sent <= settings.PARTNER_LEAD_FORM_PER_HOUR


def _lead_values(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, limit in TEXT_MAX.items():
        try:
            values[name] = text_checked(str(data.get(name) or ""), max_length=limit).strip()
        except ValidationError as error:
            errors[name] = list(error.messages)
    for name in ("pic_name", "company_name"):
        if name not in errors and not values.get(name):
            errors[name] = [_("This field is required.")]
    try:
        values["email"] = normalize_email(str(data.get("email") or "")[:254])
    except ValidationError:
        values["email"] = ""
    if not values["email"]:
        errors["email"] = [_("Enter the contact's email address.")]
    try:
        values["phone"] = normalize_phone(str(data.get("phone") or "")[:30])
    except ValidationError:
        values["phone"] = ""
    if not values["phone"]:
        errors["phone"] = [_("Enter the contact's phone number.")]
    values["employee_size"] = str(data.get("employee_size") or "")
    if values["employee_size"] not in ("", *EmployeeSize.values):
        errors["employee_size"] = [_("Choose the company's size.")]
    values["product"] = str(data.get("product") or "")
    if values["product"] not in Product.values:
        errors["product"] = [_("Choose the product the company is interested in.")]
    if errors:
        raise ValidationError(errors)
    return values


def _company_domain(email: str) -> str:
    domain = email.rpartition("@")[2]
    return "" if domain in FREE_MAIL_DOMAINS else domain


def _self_referral(partner: Partner, values: dict[str, Any]) -> bool:
    own_email = partner.user.email.strip().lower()
    own_phones = {phone for phone in (partner.phone, partner.user.phone) if phone}
    return values["email"] == own_email or values["phone"] in own_phones


def _earlier_open_lead(*, referrer: Partner, domain: str, phone: str) -> Lead | None:
    since = timezone.now() - timedelta(days=settings.PARTNER_ATTRIBUTION_DAYS)
    match = Q(phone=phone) | Q(email_domain=domain) if domain else Q(phone=phone)
    return (
        Lead.objects.filter(match, stage__in=OPEN_STAGES, created_at__gte=since, partner__isnull=False)
        .exclude(partner=referrer)
        .order_by("created_at", "pk")
        .first()
    )


def lead_create(*, referrer: Partner, source: str, data: dict[str, Any], actor: User | None) -> Lead:
    """A lead referred by `referrer` (their link, or their own "Add New Lead"); a duplicate of another partner's
    open lead is kept unattributed; the partner's own email or phone is refused."""
    values = _lead_values(data)
    if _self_referral(referrer, values):
        raise ValidationError(
            {"email": [_("This is your own email or phone: a partner cannot refer themselves.")]}
        )
    domain = _company_domain(values["email"])
    with transaction.atomic():
        earlier = _earlier_open_lead(referrer=referrer, domain=domain, phone=values["phone"])
        lead = Lead.objects.create(
            partner=None if earlier else referrer,
            referred_by=referrer,
            duplicate_of=earlier,
            source=source if source in LeadSource.values else LeadSource.PARTNER,
            email_domain=domain,
            **values,
        )
        audit_record(
            workspace=None,
            actor=actor if actor is not None else Actor(system="referral-link"),
            action="lead.duplicate" if earlier else "lead.created",
            target=lead,
            changes={
                "partner": referrer.code,
                "source": lead.source,
                "duplicate_of": earlier.pk if earlier else None,
            },
        )
    return lead


def lead_stage_move(*, lead_id: int, staff: User, stage: str, note: str = "") -> Lead:
    """Staff move a lead along its pipeline, with a note the partner sees; audited."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied(_("Only platform staff move leads."))
    try:
        text = text_checked(note, max_length=300).strip()
    except ValidationError as error:
        raise ValidationError({"note": error.messages}) from None
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if stage not in STAGE_MOVES.get(lead.stage, set()):
            raise ValidationError(
                {
                    "stage": [
                        _("A lead cannot move from %(current)s to %(target)s.")
                        % {"current": lead.get_stage_display(), "target": stage}
                    ]
                }
            )
        before = lead.stage
        lead.stage = stage
        lead.stage_note = text
        lead.stage_changed_at = timezone.now()
        lead.save(update_fields=["stage", "stage_note", "stage_changed_at"])
        audit_record(
            workspace=None,
            actor=staff,
            action="lead.stage_moved",
            target=lead,
            changes={"stage": [before, stage], "note": text},
        )
    return lead
