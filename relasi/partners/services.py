from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from relasi.accounts.models import User
from relasi.core.audit import audit_record
from relasi.partners.models import Partner, PartnerKind

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


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
