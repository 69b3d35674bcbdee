"""Leads (issue 12, item 3): the referral link counts a visit once per visitor and day, sets the attribution cookie
and takes the public form (honeypot, a limit per address); "Add New Lead"; a duplicate of another partner's open
lead stays unattributed; self-referral is refused; staff move stages; partner A never sees partner B's leads."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from relasi.core.models import AuditLog
from relasi.partners.leads import lead_stage_move
from relasi.partners.models import CodeApplied, Lead, LeadStage, Partner, Program
from relasi.partners.services import partner_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LEAD = {
    "pic_name": "Joko Widodo",
    "email": "joko@tokomaju.co.id",
    "phone": "0813-1111-2222",
    "company_name": "PT Toko Maju",
    "employee_size": "11-50",
    "industry": "Retail",
    "product": "crm",
    "notes": "Wants WhatsApp too",
}


@pytest.fixture
def rina(db) -> Partner:
    return partner_create(user=make_user("rina@mitra.test", "Rina"), actor=None, code="RPRINA01")


@pytest.fixture
def budi(db) -> Partner:
    return partner_create(user=make_user("budi@mitra.test", "Budi"), actor=None, code="RPBUDI01")


def _partner_client(partner: Partner) -> Client:
    client = Client()
    client.force_login(partner.user)
    return client


def test_a_visit_counts_once_a_day_and_the_form_makes_an_attributed_lead(rina) -> None:
    visitor = Client()
    # when a visitor opens the link three times
    for _ in range(3):
        page = visitor.get("/r/RPRINA01")
        assert page.status_code == 200
    # then one code applied, and the attribution cookie lasts 90 days
    assert CodeApplied.objects.filter(partner=rina).count() == 1
    assert visitor.cookies["relasi_ref"].value == "RPRINA01"
    assert visitor.cookies["relasi_ref"]["max-age"] == 90 * 24 * 3600
    # when they send the form
    answer = visitor.post("/r/RPRINA01", LEAD)
    # then the lead is rina's, normalised
    assert answer.status_code == 200 and 'data-testid="lead-sent"' in answer.content.decode()
    lead = Lead.objects.get()
    assert (lead.partner, lead.source, lead.phone, lead.email_domain) == (
        rina,
        "link",
        "+6281311112222",
        "tokomaju.co.id",
    )


def test_the_first_partners_cookie_keeps_the_lead(rina, budi) -> None:
    visitor = Client()
    visitor.get("/r/RPRINA01")
    visitor.get("/r/RPBUDI01")
    visitor.post("/r/RPBUDI01", LEAD)
    assert Lead.objects.get().partner == rina


def test_a_duplicate_of_another_partners_open_lead_is_kept_unattributed(rina, budi) -> None:
    Client().post("/r/RPRINA01", LEAD)
    # when budi adds the same company (another contact, same email domain)
    answer = _partner_client(budi).post(
        "/partners/leads/new/", {**LEAD, "email": "sri@tokomaju.co.id", "phone": "0813-9999-0000"}
    )
    # then it is recorded as a duplicate of rina's, attributed to no one, and budi is told
    assert answer.status_code == 302
    first, second = Lead.objects.order_by("pk")
    assert (second.partner, second.referred_by, second.duplicate_of) == (None, budi, first)
    # a free-mail address is no company's: another lead with a gmail address is budi's own
    _partner_client(budi).post(
        "/partners/leads/new/", {**LEAD, "email": "sri@gmail.com", "phone": "0813-7777-0000"}
    )
    assert Lead.objects.order_by("pk").last().partner == budi


def test_a_partner_cannot_refer_themselves(rina) -> None:
    answer = _partner_client(rina).post("/partners/leads/new/", {**LEAD, "email": "RINA@mitra.test"})
    assert answer.status_code == 400 and "cannot refer themselves" in answer.content.decode()
    assert Lead.objects.count() == 0


def test_a_robot_filling_the_hidden_field_is_thanked_and_nothing_kept(rina) -> None:
    answer = Client().post("/r/RPRINA01", {**LEAD, "website": "http://spam.test"})
    assert 'data-testid="lead-sent"' in answer.content.decode()
    assert Lead.objects.count() == 0


def test_one_address_sends_at_most_ten_leads_an_hour(rina, settings) -> None:
    settings.PARTNER_LEAD_FORM_PER_HOUR = 2
    visitor = Client()
    statuses = [
        visitor.post("/r/RPRINA01", {**LEAD, "phone": f"0813-1111-22{index:02d}"}).status_code
        for index in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert Lead.objects.count() == 2


def test_bad_values_are_errors_and_an_unknown_code_is_404(rina) -> None:
    answer = Client().post("/r/RPRINA01", {**LEAD, "email": "nope"})
    assert answer.status_code == 400 and "Enter the contact" in answer.content.decode()
    answer = Client().post("/r/RPRINA01", {**LEAD, "product": "nothing"})
    assert answer.status_code == 400 and "Select a valid choice." in answer.content.decode()
    assert Client().get("/r/NOSUCH").status_code == 404
    assert Client().get("/r/" + "A" * 5000).status_code == 404
    assert Lead.objects.count() == 0


def test_staff_move_stages_and_the_partner_sees_them(rina) -> None:
    Client().post("/r/RPRINA01", LEAD)
    lead = Lead.objects.get()
    staff = make_user("ops@relasi.test", "Ops", is_staff=True)
    lead_stage_move(lead_id=lead.pk, staff=staff, stage=LeadStage.IN_PROCESS, note="Demo on Monday")
    with pytest.raises(ValidationError, match="cannot move"):
        lead_stage_move(lead_id=lead.pk, staff=staff, stage=LeadStage.NEW)
    lead_stage_move(lead_id=lead.pk, staff=staff, stage=LeadStage.WON)
    page = _partner_client(rina).get("/partners/leads/").content.decode()
    assert "PT Toko Maju" in page and "Won" in page
    assert AuditLog.objects.filter(action="lead.stage_moved").count() == 2
    dashboard = _partner_client(rina).get("/partners/").content.decode()
    assert 'data-testid="conversions">1<' in dashboard and 'data-testid="total-leads">1<' in dashboard
    assert "/r/RPRINA01" in dashboard


def test_partner_a_never_sees_partner_bs_leads_and_workspace_users_cannot_use_the_portal(
    rina, budi, alice
) -> None:
    Client().post("/r/RPRINA01", LEAD)
    assert "PT Toko Maju" not in _partner_client(budi).get("/partners/leads/").content.decode()
    assert 'data-testid="total-leads">0<' in _partner_client(budi).get("/partners/").content.decode()
    workspace_user = Client()
    workspace_user.force_login(alice)
    assert workspace_user.get("/partners/leads/").status_code == 403
    assert workspace_user.post("/partners/leads/new/", LEAD).status_code == 403
    assert Lead.objects.count() == 1


def test_staff_move_leads_from_the_back_office_pipeline(rina, client_for) -> None:
    Client().post("/r/RPRINA01", LEAD)
    lead = Lead.objects.get()
    staff = make_user("ops@relasi.test", "Ops", is_staff=True, is_superuser=True)
    staff_client = client_for(staff)
    assert staff_client.get("/backoffice/partners/lead/?stage__exact=new").status_code == 200
    # moving a New lead straight to Won is refused and changes nothing; In process then Won is allowed
    staff_client.post("/backoffice/partners/lead/", {"action": "move_won", "_selected_action": [lead.pk]})
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NEW
    for action in ("move_in_process", "move_won"):
        staff_client.post("/backoffice/partners/lead/", {"action": action, "_selected_action": [lead.pk]})
    lead.refresh_from_db()
    assert lead.stage == LeadStage.WON


def test_the_program_pages_show_the_partners_figures_and_link(rina, budi) -> None:
    # given a CRM program, rina referring CRM, and two of her leads, one won
    program = Program.objects.create(
        name="CRM referral", product="crm", rate_percent="10.00", terms="10% a month"
    )
    rina.products = ["crm"]
    rina.save(update_fields=["products"])
    Client().post("/r/RPRINA01", LEAD)
    Client().post("/r/RPRINA01", {**LEAD, "email": "a@other.co.id", "phone": "0813-5555-0000"})
    staff = make_user("ops@relasi.test", "Ops", is_staff=True)
    won = Lead.objects.order_by("pk").first()
    lead_stage_move(lead_id=won.pk, staff=staff, stage=LeadStage.IN_PROCESS)
    lead_stage_move(lead_id=won.pk, staff=staff, stage=LeadStage.WON)
    # when she opens Program and its details
    page = _partner_client(rina).get("/partners/programs/").content.decode()
    detail = _partner_client(rina).get(f"/partners/programs/{program.pk}/").content.decode()
    # then her figures (1 code applied, 2 leads, 1 won, 50%), the link and the terms
    assert "CRM referral" in page and ">50%<" in page
    assert (
        "/r/RPRINA01" in detail
        and 'data-testid="referral-link"' in detail
        and "10% a month" in detail
        and "Discover more" in detail
    )
    # and budi, who refers no CRM, does not see it (404 for its page)
    assert "CRM referral" not in _partner_client(budi).get("/partners/programs/").content.decode()
    assert _partner_client(budi).get(f"/partners/programs/{program.pk}/").status_code == 404
