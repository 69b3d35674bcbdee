from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_add_a_customer_then_filter_to_it(page, demo_data) -> None:
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    page.get_by_test_id("add-customer").click()
    page.get_by_role("link", name="Single customer").click()
    page.get_by_label("Full name").fill("Wulan Kembang Sari")
    page.get_by_label("Channel", exact=True).select_option("line")
    page.get_by_label("Phone number").fill("0811 2233 4455")
    page.get_by_label("Email").fill("wulan@kembang.id")
    page.get_by_test_id("save-customer").click()
    expect(page.get_by_role("alert")).to_contain_text("Wulan Kembang Sari was added.")

    page.get_by_test_id("source-filter").click()
    page.get_by_label("LINE").check()
    page.get_by_label("Search").fill("kembang")
    table = page.get_by_test_id("customer-table")
    expect(table.get_by_role("link", name="Wulan Kembang Sari")).to_be_visible()
    expect(page.get_by_test_id("customer-count")).to_have_text(re.compile(r"^\s*1 customer\s*$"))
    expect(table).to_contain_text("+62 811-2233-4455")
    # the filters are in the URL: a reload shows the same result
    expect(page).to_have_url(re.compile(r"source=line.*q=kembang|q=kembang.*source=line"))
    page.reload()
    expect(page.get_by_test_id("customer-count")).to_have_text(re.compile(r"^\s*1 customer\s*$"))


def test_reorder_columns_in_manage_view_and_see_the_order_after_reload(page, demo_data) -> None:
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    # The dialog slides in; positions measured before its transition ends would miss the target.
    page.evaluate(
        "() => { window.manageViewShown = new Promise(resolve => document.getElementById('manage-view')"
        ".addEventListener('shown.bs.modal', resolve, {once: true})); }"
    )
    page.get_by_test_id("manage-view-button").click()
    page.evaluate("window.manageViewShown.then(() => true)")
    column_list = page.get_by_test_id("column-list")
    expect(column_list).to_be_visible()
    column_list.get_by_label("Status").check()
    # drag "Email" above "Channel" by its handle
    email_handle = column_list.locator('li[data-key="email"] .drag-handle')
    source_item = column_list.locator('li[data-key="source"]')
    handle_box = email_handle.bounding_box()
    target_box = source_item.bounding_box()
    assert handle_box is not None and target_box is not None
    page.mouse.move(handle_box["x"] + 4, handle_box["y"] + 4)
    page.mouse.down()
    # a first small move starts the drag; then glide to the upper part of "Channel"
    page.mouse.move(handle_box["x"] + 4, handle_box["y"] - 6, steps=3)
    page.mouse.move(target_box["x"] + 20, target_box["y"] + target_box["height"] / 4, steps=20)
    page.mouse.up()
    expect(column_list.locator("li").first).to_have_attribute("data-key", "email")
    page.get_by_test_id("save-view").click()
    expect(page.get_by_role("alert")).to_contain_text("Your view was saved.")

    page.reload()
    headers = page.locator("#customer-table thead th[data-column]")
    expect(headers).to_have_text(
        ["Customer name", "Email", "Channel", "Phone number", "Last update", "Added by", "Status"]
    )


def test_delete_then_restore_from_deleted(page, demo_data) -> None:
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    first_row = page.locator("#customer-table tbody tr").first
    name = first_row.locator("td a").first.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    first_row.get_by_role("button", name="Actions").click()
    first_row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("1 customer was deleted.")
    expect(page.get_by_test_id("customer-table")).not_to_contain_text(name)
    page.get_by_test_id("deleted-tab").click()
    row = page.locator("#customer-table tbody tr", has_text=name)
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("alert")).to_contain_text("1 customer was restored.")


def test_import_a_small_file_with_one_bad_row_then_download_the_failed_rows(
    page, demo_data, tmp_path
) -> None:
    # given a semicolon CSV with Indonesian headers: two good rows and one with a broken email
    upload = tmp_path / "pelanggan.csv"
    upload.write_text(
        "Nama;No HP;Email;Kota\r\n"
        "Rina Maharani;0812 7000 1001;rina@contoh.id;Bandung\r\n"
        "Yoga Saputra;0812 7000 1002;yoga@contoh;Depok\r\n"
        "Sari Wulandari;0812 7000 1003;sari@contoh.id;Malang\r\n",
        encoding="utf-8-sig",
    )
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    page.get_by_test_id("add-customer").click()
    page.get_by_role("link", name="Multiple customers").click()

    # when the owner uploads it, keeps the suggested mapping and starts the import
    page.get_by_label("CSV or XLSX file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("3 customer rows")
    expect(page.get_by_label("Nama")).to_have_value("full_name")
    expect(page.get_by_label("No HP")).to_have_value("phone")
    page.get_by_role("button", name="Start import").click()

    # then the result shows exact counts and the failed row can be downloaded with its reason
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_have_attribute("data-status", "completed", timeout=20_000)
    expect(page.get_by_test_id("import-rows")).to_contain_text("3 of 3 rows")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-updated")).to_have_text("0")
    expect(page.get_by_test_id("count-skipped")).to_have_text("0")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    with page.expect_download() as download_info:
        page.get_by_test_id("error-file-link").click()
    download = download_info.value
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    assert content.splitlines() == [
        "Nama;No HP;Email;Kota;row;error",
        "Yoga Saputra;0812 7000 1002;yoga@contoh;Depok;3;"
        "“Email”: “yoga@contoh” is not an email address (expected e.g. name@example.com).",
    ]

    # and the imported customers are in the list
    page.goto(page.url.split("/customers/")[0] + "/customers/?q=Rina+Maharani")
    expect(page.get_by_test_id("customer-table").get_by_role("link", name="Rina Maharani")).to_be_visible()


def test_the_back_button_brings_back_the_filters_with_their_controls(page, demo_data) -> None:
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    page.get_by_label("Search").fill("budi")
    expect(page).to_have_url(re.compile(r"q=budi"))
    page.get_by_test_id("source-filter").click()
    page.get_by_label("WhatsApp").check()
    expect(page.get_by_test_id("source-filter")).to_have_text(re.compile(r"^\s*1 channel\s*$"))
    expect(page).to_have_url(re.compile(r"q=budi.*source=whatsapp|source=whatsapp.*q=budi"))
    page.get_by_label("Sort by").select_option("name")
    expect(page).to_have_url(re.compile(r"sort=name"))
    # when going back one step, the controls show the filters of that URL, not the last ones typed
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"sort=name"))
    expect(page.get_by_label("Search")).to_have_value("budi")
    expect(page.get_by_label("Sort by")).to_have_value("recent")
    expect(page.locator("#source-whatsapp")).to_be_checked()
