"""The statuses of a commission line and the moves between them, in one place (docs/partners-tax.md draws them).

A line waits as No Status until the referred workspace has been subscribed three calendar months; a job then
sends it to tax review. Staff make every other move, each audited with the actor and a reason by the service
that calls `move_check`. Paid and Commission Rejected are final: a correction after payment is a new line (a
clawback), never a move back.
"""

from __future__ import annotations

import calendar
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relasi.core.validation import StateConflict


class CommissionStatus(models.TextChoices):
    NO_STATUS = "no_status", gettext_lazy("No Status")
    IN_TAX_REVIEW = "in_tax_review", gettext_lazy("In Tax Review")
    TAX_REJECTED = "tax_rejected", gettext_lazy("Tax Rejected")
    AWAITING_GRANTED = "awaiting_granted", gettext_lazy("Awaiting Granted")
    COMMISSION_REJECTED = "commission_rejected", gettext_lazy("Commission Rejected")
    COMMISSION_GRANTED = "commission_granted", gettext_lazy("Commission Granted")
    IN_DISBURSEMENT = "in_disbursement", gettext_lazy("In Disbursement")
    PAID = "paid", gettext_lazy("Paid")
    FAILED = "failed", gettext_lazy("Failed")


S = CommissionStatus

# Who makes a move: a background job or a staff action in the back-office (or the staff API).
JOB = "job"
STAFF = "staff"

# Every allowed move and who makes it; anything not here is refused.
MOVED_BY: dict[tuple[str, str], str] = {
    # The three-month rule is met (payable_from): the job puts the line up for tax review.
    (S.NO_STATUS, S.IN_TAX_REVIEW): JOB,
    # Staff check the partner's tax data (kind, NPWP, the rule and rate on the line): right, or not.
    (S.IN_TAX_REVIEW, S.AWAITING_GRANTED): STAFF,
    (S.IN_TAX_REVIEW, S.TAX_REJECTED): STAFF,
    # The tax data was corrected (for instance an NPWP supplied): reviewed again.
    (S.TAX_REJECTED, S.IN_TAX_REVIEW): STAFF,
    # Staff grant the commission, or reject it (a reason is required by the service).
    (S.AWAITING_GRANTED, S.COMMISSION_GRANTED): STAFF,
    (S.AWAITING_GRANTED, S.COMMISSION_REJECTED): STAFF,
    # A granted line is put in a disbursement batch (its bank transfer file).
    (S.COMMISSION_GRANTED, S.IN_DISBURSEMENT): STAFF,
    # Staff mark each line of the batch paid (with the payment date) or failed.
    (S.IN_DISBURSEMENT, S.PAID): STAFF,
    (S.IN_DISBURSEMENT, S.FAILED): STAFF,
    # A failed transfer goes into a later batch (the issue: Failed can go back to In Disbursement).
    (S.FAILED, S.IN_DISBURSEMENT): STAFF,
}

# The same moves by status; Paid and Commission Rejected lead nowhere.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    str(status): frozenset(str(target) for (current, target) in MOVED_BY if current == status)
    for status in S.values
}

FINAL = frozenset(status for status, targets in ALLOWED_MOVES.items() if not targets)


def move_check(*, current: str, target: str) -> None:
    """Refuse a move the state machine does not allow: StateConflict (409 in the API) naming both statuses."""
    for value in (current, target):
        if value not in ALLOWED_MOVES:
            raise ValidationError(_("%(value)s is not a commission status.") % {"value": value})
    if target in ALLOWED_MOVES[current]:
        return
    names = {"current": S(current).label, "target": S(target).label}
    if current == target:
        raise StateConflict(_("The commission line is already %(current)s.") % names)
    if current in FINAL:
        raise StateConflict(
            _("The commission line is %(current)s, which is final: it cannot move to %(target)s.") % names
        )
    raise StateConflict(_("A commission line cannot move from %(current)s to %(target)s.") % names)


def payable_on(*, subscribed_on: date) -> date:
    """The day three calendar months after `subscribed_on`; a day the month lacks is its last day (31 January →
    30 April, 30 November → 28 or 29 February)."""
    month_index = subscribed_on.month - 1 + 3
    year, month = subscribed_on.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(subscribed_on.day, last_day))


def payable_from(*, subscribed_on: date, today: date) -> bool:
    """True once the referred workspace has been subscribed at least three calendar months: from `payable_on`."""
    return today >= payable_on(subscribed_on=subscribed_on)
