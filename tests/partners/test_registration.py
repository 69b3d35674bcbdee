"""Registering as a partner (issue 12, item 1): four steps with Back and Next, a review, Submit → a partner waiting
for identity review, a user whose temporary password the first sign-in changes, and the welcome email."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relasi.accounts.models import User
from relasi.core.models import AuditLog
from relasi.partners.models import Partner, ReviewStatus
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

NIK = "3171011508900001"  # DKI Jakarta, born 15 August 1990
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2_000
STEP_VALUES = {
    1: {"email": "rina@mitra.test", "products": ["crm", "whatsapp"]},
    2: {
        "full_name": "Rina Marlina",
        "phone": "0812-3456-7890",
        "company_name": "CV Mitra Usaha",
        "employee_size": "11-50",
        "position": "Owner",
        "domicile": "Bandung",
    },
    3: {
        "identity_type": "ktp",
        "identity_number": "3171 0115 0890 0001",
        "bank_account_name": "RINA MARLINA, S.E.",
        "bank_account_number": "1234567890",
        "bank_code": "014",
        "bank_branch": "KCP Dago",
    },
    4: {"products_used": ["crm"], "similar_software": "Spreadsheet", "heard_from": "A friend", "terms": "on"},
}


def _step(client: Client, step: int, **changes: object):
    url = "/partners/register/" if step == 1 else f"/partners/register/{step}/"
    data: dict[str, object] = {**STEP_VALUES[step], **changes}
    if step == 3 and "identity_document" not in changes:
        data["identity_document"] = SimpleUploadedFile("ktp.png", PNG, content_type="image/png")
    return client.post(url, data)


def _through_review(client: Client) -> None:
    for step in (1, 2, 3, 4):
        answer = _step(client, step)
        assert answer.status_code == 302, (step, answer.content.decode()[:3000])


def test_register_in_four_steps_then_sign_in_with_the_temporary_password(
    django_capture_on_commit_callbacks,
) -> None:
    client = Client()
    # when a visitor goes through the four steps and the review
    _through_review(client)
    review = client.get("/partners/register/review/").content.decode()
    assert "rina@mitra.test" in review and "3171011508900001" in review and "ktp.png" in review
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/partners/register/review/")
    # then a partner waits for identity review, with a partner code and the document kept privately
    assert answer["Location"] == "/partners/register/done/"
    partner = Partner.objects.select_related("user").get()
    assert (partner.kind, partner.identity_number, partner.review_status) == (
        "individual",
        NIK,
        ReviewStatus.PENDING,
    )
    assert (partner.phone, partner.bank_account_masked, partner.products) == (
        "+6281234567890",
        "•••• 7890",
        ["crm", "whatsapp"],
    )
    assert partner.identity_document.name.startswith("private/partner-identity/")
    assert partner.identity_document.read() == PNG
    assert partner.user.must_change_password is True
    # and the welcome email carries the temporary password, which signs in and must be changed first
    (email,) = mail.outbox
    assert (email.to, email.subject) == (["rina@mitra.test"], "Welcome to the Relasi Referral Program!")
    assert partner.code in email.body
    password = re.search(r"Temporary password: (\S+)", email.body)
    assert password is not None
    signed_in = Client()
    answer = signed_in.post(
        "/partners/login/", {"username": "rina@mitra.test", "password": password.group(1)}
    )
    assert answer.status_code == 302
    assert signed_in.get("/partners/")["Location"] == "/accounts/password/change/"


def test_back_shows_the_values_kept(db) -> None:
    client = Client()
    _step(client, 1)
    _step(client, 2)
    page = client.get("/partners/register/2/").content.decode()
    assert 'value="Rina Marlina"' in page and 'value="CV Mitra Usaha"' in page
    assert 'href="/partners/register/"' in page
    # a later step cannot be opened before the earlier ones
    assert Client().get("/partners/register/3/")["Location"] == "/partners/register/"


@pytest.mark.parametrize(
    ("step", "changes", "field_message"),
    [
        (1, {"email": "not an email"}, "Enter your email address."),
        (1, {"products": []}, "Choose at least one product to refer."),
        (2, {"phone": "+1 202 555 0143"}, "Enter an Indonesian phone number"),
        (3, {"identity_number": "3171013102900001"}, "birth date"),
        (
            3,
            {"bank_account_name": "Rina Marlini"},
            "The account name must be your full name as on the identity",
        ),
        (
            3,
            {"identity_document": SimpleUploadedFile("ktp.png", b"just text", content_type="image/png")},
            "JPG, PNG or PDF",
        ),
        (4, {"terms": ""}, "Agree to the program terms to register."),
    ],
)
def test_a_bad_value_is_a_field_error_and_the_step_stays(step, changes, field_message) -> None:
    client = Client()
    for earlier in range(1, step):
        _step(client, earlier)
    answer = _step(client, step, **changes)
    assert answer.status_code == 400
    assert field_message in answer.content.decode()
    assert Partner.objects.count() == 0


def test_a_registered_email_or_identity_is_refused_with_a_clear_message(alice) -> None:
    client = Client()
    answer = _step(client, 1, email="alice@acme.test")
    assert "An account with this email exists already" in answer.content.decode()
    # given a partner registered with the NIK
    other = make_user("budi@mitra.test", "Budi")
    Partner.objects.create(user=other, code="RPBUDI01", identity_number=NIK)
    for step in (1, 2):
        _step(client, step)
    answer = _step(client, 3)
    assert "A partner with this identity number is registered already." in answer.content.decode()
    assert Partner.objects.count() == 1
    assert not User.objects.filter(email="rina@mitra.test").exists()


def test_the_review_checks_everything_again(django_capture_on_commit_callbacks) -> None:
    # given a visitor at the review, whose email someone registered meanwhile
    client = Client()
    _through_review(client)
    make_user("rina@mitra.test", "Someone Else")
    # when they submit, then the review says why and nothing is made
    answer = client.post("/partners/register/review/")
    assert answer.status_code == 400
    assert "An account with this email exists already" in answer.content.decode()
    assert Partner.objects.count() == 0
    assert mail.outbox == []


def test_a_company_registers_with_its_npwp_and_the_account_in_its_name(
    django_capture_on_commit_callbacks,
) -> None:
    client = Client()
    _step(client, 1)
    _step(client, 2)
    # a person's NIK is not a company's NPWP
    answer = _step(
        client, 3, identity_type="npwp_company", identity_number=NIK, bank_account_name="CV Mitra Usaha"
    )
    assert "a company registers with its own NPWP" in answer.content.decode()
    # the company's NPWP (15 digits, its check digit right) with an account in the company's name
    answer = _step(
        client,
        3,
        identity_type="npwp_company",
        identity_number="01.300.066.6-091.000",
        bank_account_name="Mitra Usaha",
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    _step(client, 4)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/partners/register/review/")
    partner = Partner.objects.get()
    assert (partner.kind, partner.identity_type, partner.identity_number) == (
        "company",
        "npwp_company",
        "0013000666091000",
    )


def test_staff_open_the_document_privately_and_approve(
    django_capture_on_commit_callbacks, client_for, alice
) -> None:
    client = Client()
    _through_review(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/partners/register/review/")
    partner = Partner.objects.get()
    staff = make_user("ops@relasi.test", "Ops", is_staff=True, is_superuser=True)
    url = f"/backoffice/partners/partner/{partner.pk}/document/"
    # staff see the document, with no cache; anyone else does not
    answer = client_for(staff).get(url)
    assert (answer.status_code, answer["Content-Type"]) == (200, "image/png")
    assert {"private", "no-store"} <= {part.strip() for part in answer["Cache-Control"].split(",")}
    assert b"".join(answer.streaming_content) == PNG
    assert client_for(alice).get(url).status_code == 302
    assert Client().get(url).status_code == 302
    assert Client().get(f"/media/{partner.identity_document.name}").status_code == 404
    # and approving it is audited
    answer = client_for(staff).post(
        "/backoffice/partners/partner/", {"action": "approve", "_selected_action": [partner.pk]}
    )
    partner.refresh_from_db()
    assert partner.review_status == ReviewStatus.APPROVED
    assert AuditLog.objects.filter(action="partner.reviewed", target_id=str(partner.pk)).count() == 1
