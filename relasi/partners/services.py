from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import audit_record
from relasi.core.inputs import text_checked
from relasi.partners.models import Partner, PartnerKind, ReviewStatus

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REASON_MAX = 300


def partner_create(
    *,
    user: User,
    actor: User | None,
    kind: str = PartnerKind.INDIVIDUAL,
    company_name: str = "",
    code: str = "",
) -> Partner:
    """Make a user a partner with a unique, readable partner code."""
    for _attempt in range(10):
        candidate = code or "RP" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        try:
            with transaction.atomic():
                partner = Partner.objects.create(
                    user=user, code=candidate, kind=kind, company_name=company_name
                )
                audit_record(
                    workspace=None,
                    actor=actor,
                    action="partner.created",
                    target=partner,
                    changes={"code": candidate},
                )
                return partner
        except IntegrityError:
            if code:
                raise
    raise RuntimeError("Could not find a free partner code.")


def partner_review(*, partner_id: int, staff: User, approve: bool, reason: str) -> Partner:
    """Staff's decision on a registration's identity and bank account, audited with the reason."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied(_("Only platform staff review partners."))
    try:
        why = text_checked(reason, max_length=REASON_MAX).strip()
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    if not approve and not why:
        raise ValidationError({"reason": [_("Say why the registration is rejected.")]})
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner_id)
        before = partner.review_status
        partner.review_status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        partner.save(update_fields=["review_status"])
        audit_record(
            workspace=None,
            actor=staff,
            action="partner.reviewed",
            target=partner,
            changes={"review_status": [before, partner.review_status], "reason": why},
        )
    return partner
