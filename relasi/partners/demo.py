"""The demo partner's program and leads: a lead in every stage, through the same services as real ones."""

from __future__ import annotations

from decimal import Decimal

from relasi.accounts.models import User
from relasi.partners.leads import lead_create, lead_stage_move
from relasi.partners.models import Lead, LeadSource, LeadStage, Partner, Product, Program

LEADS = [
    ("Warung Kopi Senja", "Dewi Lestari", "dewi@kopisenja.co.id", "0812-1000-0001", []),
    ("Batik Sekar Jagad", "Agus Salim", "agus@sekarjagad.co.id", "0812-1000-0002", [LeadStage.IN_PROCESS]),
    ("Klinik Sehat Sentosa", "Maria Ulfa", "maria@sehatsentosa.co.id", "0812-1000-0003", [LeadStage.IN_PROCESS, LeadStage.WON]),
    ("Bengkel Jaya Motor", "Rudi Hartono", "rudi@jayamotor.co.id", "0812-1000-0004", [LeadStage.LOST]),
]  # fmt: skip


def partners_create_sample(*, partner: Partner, staff: User) -> None:
    """A program the demo partner refers, and one lead in each stage (once)."""
    if not partner.products:
        partner.products = [Product.CRM]
        partner.save(update_fields=["products"])
    Program.objects.get_or_create(
        name="Relasi CRM referral",
        defaults={
            "product": Product.CRM,
            "rate_percent": Decimal("10.00"),
            "paid_months": 12,
            "terms": "10% of each subscription payment of a referred workspace, for its first 12 paid months, "
            "once it has been subscribed for three months.",
        },
    )
    if Lead.objects.filter(referred_by=partner).exists():
        return
    for company, person, email, phone, moves in LEADS:
        lead = lead_create(
            referrer=partner,
            source=LeadSource.PARTNER,
            data={
                "pic_name": person,
                "email": email,
                "phone": phone,
                "company_name": company,
                "product": Product.CRM,
            },
            actor=partner.user,
        )
        for stage in moves:
            lead_stage_move(lead_id=lead.pk, staff=staff, stage=stage, note="Demo")
