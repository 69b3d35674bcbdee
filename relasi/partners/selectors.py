from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404

from relasi.accounts.models import User
from relasi.partners.models import CodeApplied, Lead, LeadStage, Partner, Program


def partner_for_user(*, user: User) -> Partner:
    """The partner account of a signed-in user; Http404 for anyone who is not a partner."""
    partner = (
        Partner.objects.select_related("user").filter(user=user).first() if user.is_authenticated else None
    )
    if partner is None:
        raise Http404
    return partner


def partner_by_code(*, code: str) -> Partner | None:
    return Partner.objects.select_related("user").filter(code=code).first()


def leads_of(*, partner: Partner, limit: int = 200) -> list[Lead]:
    """The partner's own leads, newest first: never another partner's."""
    return list(Lead.objects.filter(partner=partner).order_by("-created_at", "-pk")[:limit])


def lead_summary(*, partner: Partner) -> dict[str, int]:
    """The dashboard's figures: code applied, leads by stage, conversions."""
    counts = dict(
        Lead.objects.filter(partner=partner).values_list("stage").annotate(count=Count("pk")).order_by()
    )
    return {
        "code_applied": CodeApplied.objects.filter(partner=partner).count(),
        "leads": sum(counts.values()),
        "new": counts.get(LeadStage.NEW, 0),
        "in_process": counts.get(LeadStage.IN_PROCESS, 0),
        "won": counts.get(LeadStage.WON, 0),
        "lost": counts.get(LeadStage.LOST, 0),
    }


@dataclass(frozen=True)
class ProgramRow:
    program: Program
    code_applied: int
    leads: int
    won: int

    @property
    def conversion_percent(self) -> int | None:
        return round(self.won * 100 / self.leads) if self.leads else None


def programs_of(*, partner: Partner) -> list[ProgramRow]:
    """The programs of the products the partner refers, with the partner's figures in each (a lead belongs to the
    program of its product)."""
    programs = list(Program.objects.filter(product__in=partner.products or []).order_by("name"))
    counts: dict[tuple[str, str], int] = {
        (product, stage): count
        for product, stage, count in Lead.objects.filter(partner=partner)
        .values_list("product", "stage")
        .annotate(count=Count("pk"))
        .order_by()
    }
    code_applied = CodeApplied.objects.filter(partner=partner).count()
    return [
        ProgramRow(
            program=program,
            code_applied=code_applied,
            leads=sum(count for (product, _stage), count in counts.items() if product == program.product),
            won=counts.get((program.product, LeadStage.WON), 0),
        )
        for program in programs
    ]


def program_of(*, partner: Partner, program_id: int) -> ProgramRow:
    """One of the partner's programs; another's, or none, is a 404."""
    for row in programs_of(partner=partner):
        if row.program.pk == program_id:
            return row
    raise Http404
