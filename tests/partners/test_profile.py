"""The partner profile (issue 12, item 2): change password in its dialog with the shared policy, and requests to
change a checked detail that staff approve (applied, audited) or reject; partner A never reaches B's."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from relasi.core.models import AuditLog
from relasi.partners.models import ChangeRequest, Partner
from relasi.partners.profile_changes import change_request_decide
from relasi.partners.services import partner_create
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rina(db) -> Partner:
    partner = partner_create(user=make_user("rina@mitra.test", "Rina"), actor=None, code="RPRINA01")
    partner.bank_account_number = "1234567890"
    partner.save(update_fields=["bank_account_number"])
    return partner


def _client(partner: Partner) -> Client:
    client = Client()
    client.force_login(partner.user)
    return client


def test_the_profile_masks_the_account_and_changes_the_password_in_its_dialog(rina) -> None:
    client = _client(rina)
    page = client.get("/partners/profile/").content.decode()
    assert "•••• 7890" in page and "1234567890" not in page
    # a new password the policy refuses: the dialog opens again with the reason, nothing changed
    answer = client.post(
        "/partners/profile/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert answer.status_code == 400 and "show d-block" in answer.content.decode()
    rina.user.refresh_from_db()
    assert rina.user.check_password(PASSWORD)
    # a good one: changed, still signed in
    answer = client.post(
        "/partners/profile/password/",
        {"old_password": PASSWORD, "new_password1": "Mitra#Baru2026", "new_password2": "Mitra#Baru2026"},
    )
    assert answer["Location"] == "/partners/profile/"
    rina.user.refresh_from_db()
    assert rina.user.check_password("Mitra#Baru2026")
    assert client.get("/partners/profile/").status_code == 200


def test_a_change_request_applies_only_when_staff_approve_it(rina) -> None:
    client = _client(rina)
    answer = client.post(
        "/partners/profile/changes/", {"field": "phone", "new_value": "0812 9999 0000", "reason": "New SIM"}
    )
    assert answer["Location"] == "/partners/profile/"
    request = ChangeRequest.objects.get()
    assert (request.old_value, request.new_value, request.status) == ("", "+6281299990000", "pending")
    rina.refresh_from_db()
    assert rina.phone == ""
    staff = make_user("ops@relasi.test", "Ops", is_staff=True)
    change_request_decide(request_id=request.pk, staff=staff, approve=True)
    rina.refresh_from_db()
    assert rina.phone == "+6281299990000"
    assert AuditLog.objects.filter(action="partner.change_approved").count() == 1
    with pytest.raises(ValidationError, match="already decided"):
        change_request_decide(request_id=request.pk, staff=staff, approve=False)


def test_bad_change_requests_are_refused_and_change_nothing(rina, alice) -> None:
    client = _client(rina)
    for data in (
        {"field": "phone", "new_value": "+1 202 555 0143"},
        {"field": "bank_account_number", "new_value": "12ab"},
        {"field": "identity_number", "new_value": "x"},
        {"field": "full_name", "new_value": "x" * 151},
    ):
        answer = client.post("/partners/profile/changes/", data)
        assert answer.status_code == 400, data
    assert (
        "Enter an Indonesian phone number"
        in client.post(
            "/partners/profile/changes/", {"field": "phone", "new_value": "+1 202 555 0143"}
        ).content.decode()
    )
    assert ChangeRequest.objects.count() == 0
    # workspace users and strangers cannot ask, and only staff decide
    workspace_user = Client()
    workspace_user.force_login(alice)
    assert (
        workspace_user.post(
            "/partners/profile/changes/", {"field": "phone", "new_value": "0812 1"}
        ).status_code
        == 403
    )
    request = ChangeRequest.objects.create(partner=rina, field="domicile", new_value="Medan")
    with pytest.raises(PermissionDenied, match="staff"):
        change_request_decide(request_id=request.pk, staff=alice, approve=True)
    rina.refresh_from_db()
    assert rina.domicile == ""


def test_staff_approve_and_reject_change_requests_from_the_back_office(rina, client_for) -> None:
    first = ChangeRequest.objects.create(partner=rina, field="domicile", new_value="Medan")
    second = ChangeRequest.objects.create(partner=rina, field="position", new_value="Director")
    staff = client_for(make_user("ops@relasi.test", "Ops", is_staff=True, is_superuser=True))
    staff.post(
        "/backoffice/partners/changerequest/", {"action": "approve_changes", "_selected_action": [first.pk]}
    )
    staff.post(
        "/backoffice/partners/changerequest/", {"action": "reject_changes", "_selected_action": [second.pk]}
    )
    # deciding the first again is refused and named, the profile keeps the approved value
    answer = staff.post(
        "/backoffice/partners/changerequest/",
        {"action": "reject_changes", "_selected_action": [first.pk]},
        follow=True,
    )
    assert "This request was already decided." in answer.content.decode()
    rina.refresh_from_db()
    assert (rina.domicile, rina.position) == ("Medan", "")
    assert list(ChangeRequest.objects.order_by("pk").values_list("status", flat=True)) == [
        "approved",
        "rejected",
    ]
