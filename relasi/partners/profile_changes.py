"""Profile changes: a partner asks, staff decide. Personal and bank details are what staff checked at registration,
so a partner cannot change them alone; an approved change applies at once and is audited."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relasi.accounts.models import User
from relasi.core.audit import audit_record
from relasi.core.inputs import text_checked
from relasi.partners.identity import account_number_check, indonesian_phone_check
from relasi.partners.models import ChangeField, ChangeRequest, ChangeRequestStatus, Partner

VALUE_MAX = 150
REASON_MAX = 300


def _value_checked(field: str, value: str) -> str:
    try:
        text = text_checked(value, max_length=VALUE_MAX).strip()
    except ValidationError as error:
        raise ValidationError({"new_value": error.messages}) from None
    if not text:
        raise ValidationError({"new_value": [_("Enter the new value.")]})
    checks: dict[str, Callable[[str], str]] = {
        ChangeField.PHONE: indonesian_phone_check,
        ChangeField.BANK_ACCOUNT_NUMBER: account_number_check,
    }
    check = checks.get(field)
    if check is None:
        return text
    try:
        return check(text)
    except ValidationError as error:
        raise ValidationError({"new_value": error.messages}) from None


def _current(partner: Partner, field: str) -> str:
    return partner.user.full_name if field == ChangeField.FULL_NAME else str(getattr(partner, field))


def change_request_create(*, partner: Partner, field: str, new_value: str, reason: str = "") -> ChangeRequest:
    if field not in ChangeField.values:
        raise ValidationError({"field": [_("Choose the detail to change.")]})
    value = _value_checked(field, new_value)
    try:
        why = text_checked(reason, max_length=REASON_MAX).strip()
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    with transaction.atomic():
        request = ChangeRequest.objects.create(
            partner=partner,
            field=field,
            old_value=_current(partner, field)[:VALUE_MAX],
            new_value=value,
            reason=why,
        )
        audit_record(
            workspace=None,
            actor=partner.user,
            action="partner.change_requested",
            target=request,
            changes={"field": field},
        )
    return request


def change_request_decide(*, request_id: int, staff: User, approve: bool) -> ChangeRequest:
    """Approve (the change applies to the profile, both audited) or reject a pending request, once."""
    if not (staff.is_active and staff.is_staff):
        raise PermissionDenied(_("Only platform staff decide change requests."))
    with transaction.atomic():
        request = ChangeRequest.objects.select_for_update().select_related("partner__user").get(pk=request_id)
        if request.status != ChangeRequestStatus.PENDING:
            raise ValidationError(_("This request was already decided."))
        request.status = ChangeRequestStatus.APPROVED if approve else ChangeRequestStatus.REJECTED
        request.decided_by = staff
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_by", "decided_at"])
        if approve:
            _apply(request)
        audit_record(
            workspace=None,
            actor=staff,
            action=f"partner.change_{request.status}",
            target=request.partner,
            changes={"field": request.field, "from": request.old_value, "to": request.new_value}
            if approve
            else {},
        )
    return request


def _apply(request: ChangeRequest) -> None:
    partner = request.partner
    if request.field == ChangeField.FULL_NAME:
        partner.user.full_name = request.new_value
        partner.user.save(update_fields=["full_name"])
        return
    setattr(partner, request.field, request.new_value)
    partner.save(update_fields=[request.field])
