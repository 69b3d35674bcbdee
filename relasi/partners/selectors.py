from __future__ import annotations

from django.http import Http404

from relasi.accounts.models import User
from relasi.partners.models import Partner


def partner_for_user(*, user: User) -> Partner:
    """The partner account of a signed-in user; Http404 for anyone who is not a partner."""
    partner = (
        Partner.objects.select_related("user").filter(user=user).first() if user.is_authenticated else None
    )
    if partner is None:
        raise Http404
    return partner
