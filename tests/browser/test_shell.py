from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_demo_owner_signs_in_sees_the_shell_and_switches_to_bahasa_indonesia(page, demo_data) -> None:
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    expect(page).to_have_url(re.compile(r"/app/demo/customers/$"))
    nav = page.get_by_test_id("app-nav")
    expect(nav.get_by_role("link", name="All customers")).to_be_visible()
    expect(page.get_by_role("link", name="Package usage", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Members")).to_be_visible()
    expect(page.get_by_role("link", name="API keys")).to_be_visible()
    expect(page.get_by_test_id("workspace-name")).to_have_text("Toko Nusantara")

    page.get_by_label("Language").select_option("id")

    expect(page.get_by_role("link", name="Semua pelanggan")).to_be_visible()
    expect(page.get_by_role("link", name="Pemakaian paket", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Anggota")).to_be_visible()
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()


def test_demo_partner_signs_in_to_the_partner_portal(page, demo_data) -> None:
    sign_in(page, "/partners/login/", "partner@relasi.test")
    expect(page).to_have_url(re.compile(r"/partners/$"))
    nav = page.get_by_test_id("partner-nav")
    for name in ("Dashboard", "Program", "Commission", "Profile"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    nav.get_by_role("link", name="Profile").click()
    expect(page.get_by_test_id("partner-code")).to_have_text("RPDEMO01")


def test_a_workspace_user_is_not_a_partner(page, demo_data) -> None:
    sign_in(page, "/partners/login/", "owner@relasi.test")
    expect(page.get_by_role("alert")).to_have_text(
        "This is not a partner account. Workspace users sign in on the workspace sign-in page."
    )
    expect(page).to_have_url(re.compile(r"/partners/login/$"))


def test_the_workspace_app_fits_a_phone_screen(page, demo_data) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
