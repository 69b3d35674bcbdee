"""A 30,000-row import on the default setup (`make run`: no Redis, SQLite): the page answers at once and the bar
moves while the rows go in.

The server is the development server itself, started as `make run` starts it, not the suite's live server: the
suite runs jobs eagerly on an in-memory database, and the point here is what a new user of `make run` sees.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.background_servers import DevServer, customers_csv, dev_server_start, dev_template_folder
from tests.browser.conftest import sign_in

ROWS = 30_000


@pytest.fixture
def dev_page(browser, dev_server: DevServer) -> Iterator[object]:
    context = browser.new_context(base_url=dev_server.url, locale="en-US")
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def dev_server(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[DevServer]:
    server = dev_server_start(dev_template_folder(tmp_path_factory), tmp_path / "server")
    yield server
    server.stop()


def _bar(page) -> tuple[str, int]:
    progress = page.get_by_test_id("import-progress")
    value = progress.get_by_role("progressbar").get_attribute("aria-valuenow", timeout=20_000)
    return str(progress.get_attribute("data-status")), int(value or 0)


def test_start_import_answers_at_once_and_the_bar_moves_on_the_default_setup(
    dev_page, dev_server: DevServer, tmp_path: Path
) -> None:
    # given the owner on `make run`'s server, with a CSV of 30,000 customers uploaded and mapped
    page = dev_page
    upload = customers_csv(tmp_path / "customers.csv", ROWS)
    sign_in(page, "/accounts/login/", "owner@relasi.test")
    page.goto("/app/demo/customers/imports/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_label("Full name")).to_have_value("full_name")

    # when the owner starts the import
    started = time.monotonic()
    with page.expect_navigation(url="**/progress/", wait_until="domcontentloaded", timeout=60_000):
        page.get_by_role("button", name="Start import").click()
    answered = time.monotonic() - started
    first_status, first_percent = _bar(page)

    # then the progress page answers at once, before the import is done
    print(f"'Start import' answered in {answered:.2f} s; first status {first_status} at {first_percent}%")
    assert first_status in ("queued", "running")
    assert answered < 3.0
    # and the bar moves: a value strictly between 0 and 100 is seen before the import ends
    seen: list[int] = [first_percent]
    deadline = time.monotonic() + 120
    status = first_status
    while status != "completed" and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        status, percent = _bar(page)
        if percent != seen[-1]:
            seen.append(percent)
    print(f"bar values seen: {seen}")
    assert status == "completed"
    assert [value for value in seen if 0 < value < 100]
    assert seen[-1] == 100
    assert seen == sorted(seen)
    created = page.get_by_test_id("count-created").inner_text()
    assert int(re.sub(r"\D", "", created)) == ROWS
