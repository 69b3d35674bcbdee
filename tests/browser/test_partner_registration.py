"""Partner registration in Chromium (issue 12): every step with a document, Back keeping the values, the review,
the welcome email, the first sign-in with the temporary password, and the change of password it asks for."""

from __future__ import annotations

import re
from pathlib import Path

from django.core import mail
from playwright.sync_api import expect

from relasi.partners.models import Partner

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4_000


def test_register_sign_in_with_the_temporary_password_and_change_it(
    page, transactional_db, tmp_path: Path
) -> None:
    document = tmp_path / "ktp.png"
    document.write_bytes(PNG)
    page.goto("/partners/login/")
    page.get_by_test_id("become-partner").click()

    # step 1: email and products
    page.get_by_label("Email").fill("sari@mitra.test")
    page.get_by_label("Relasi CRM").check()
    page.get_by_test_id("register-next").click()
    # step 2: about the person; Back keeps what was typed
    expect(page.get_by_test_id("register-step")).to_have_text("Step 2 of 4")
    page.get_by_label("Full name").fill("Sari Dewi")
    page.get_by_label("Phone").fill("0812 2222 3333")
    page.get_by_label("Company name").fill("Toko Sari")
    page.get_by_label("Employees").select_option("1-10")
    page.get_by_label("Position").fill("Pemilik")
    page.get_by_label("Domicile").fill("Surabaya")
    page.get_by_test_id("register-next").click()
    page.get_by_test_id("register-back").click()
    expect(page.get_by_label("Full name")).to_have_value("Sari Dewi")
    page.get_by_test_id("register-next").click()
    # step 3: identity, document and bank account (first in another name: refused, with the reason)
    page.get_by_label("KTP (individual)").check()
    page.get_by_label("Identity number", exact=True).fill("3578014506920003")
    page.get_by_label("Identity document (JPG, PNG or PDF, at most 1 MB)").set_input_files(str(document))
    page.get_by_label("Account name").fill("Budi Santoso")
    page.get_by_label("Account number").fill("9876543210")
    page.get_by_label("Bank", exact=True).select_option("014")
    page.get_by_label("Branch").fill("KCP Darmo")
    page.get_by_test_id("register-next").click()
    expect(page.get_by_text("The account name must be your full name as on the identity")).to_be_visible()
    expect(page.get_by_test_id("document-kept")).to_contain_text("ktp.png")
    page.get_by_label("Account name").fill("SARI DEWI, S.E.")
    page.get_by_test_id("register-next").click()
    # step 4 and the review
    page.get_by_label("I agree to the program terms").check()
    page.get_by_test_id("register-next").click()
    expect(page.get_by_text("3578014506920003")).to_be_visible()
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-done")).to_contain_text("sari@mitra.test")

    # the welcome email has the temporary password
    (email,) = [message for message in mail.outbox if message.to == ["sari@mitra.test"]]
    assert email.subject == "Welcome to the Relasi Referral Program!"
    found = re.search(r"Temporary password: (\S+)", email.body)
    assert found is not None
    # signing in with it leads to the change of password first
    page.goto("/partners/login/")
    page.get_by_label("Email").fill("sari@mitra.test")
    page.get_by_label("Password").fill(found.group(1))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/change/$"))
    page.get_by_label("Old password").fill(found.group(1))
    page.get_by_label("New password", exact=True).fill("Mitra#Sari2026")
    page.get_by_label("New password confirmation").fill("Mitra#Sari2026")
    page.get_by_role("button", name="Change password").click()
    page.goto("/partners/profile/")
    partner = Partner.objects.get(user__email="sari@mitra.test")
    expect(page.get_by_test_id("partner-code")).to_have_text(partner.code)
    expect(page.get_by_test_id("bank-account")).to_contain_text("•••• 3210")
