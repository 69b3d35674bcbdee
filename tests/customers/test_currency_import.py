"""Importing amounts in rupiah (issue 9 item 3): a column mapped to a currency property tells the file's number
format like a number column does ("Rp 1.500.000" is Indonesian), its amounts are stored as whole rupiah, and an
amount with decimals fails its row, naming the column and the value.

alice owns acme, bob is an agent there (agents may import when the owner allows it), charlie is an outsider.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from relasi.accounts.models import User
from relasi.customers import imports
from relasi.customers.models import Customer, CustomerImport, PropertyDefinition
from relasi.customers.property_services import property_create
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

BASE = "/app/acme/customers/imports/"
# An Indonesian spreadsheet: amounts as pages show them, one with cents (row 3 in the spreadsheet).
FILE = b"Nama;Harga\r\nAni;Rp 1.500.000\r\nBudi;Rp 2,5\r\nCitra;750.000\r\n"
MAPPING = {"0": "full_name", "1": "harga"}


@pytest.fixture
def price(acme: Workspace, alice: User) -> PropertyDefinition:
    return property_create(workspace=acme, actor=alice, label="Harga", key="harga", kind="currency")


def amounts(workspace: Workspace) -> list[tuple[str, dict[str, int]]]:
    return list(
        Customer.objects.for_workspace(workspace).order_by("pk").values_list("full_name", "properties")
    )


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_an_indonesian_file_of_amounts_is_imported_as_whole_rupiah(
    agents_may_bulk, price, request, member: str
) -> None:
    user = request.getfixturevalue(member)
    # when the owner or an agent imports the file without saying how it writes numbers
    customer_import = started(agents_may_bulk, user, FILE, name="harga.csv", mapping=MAPPING)
    done = imports.customer_import_run(workspace_id=agents_may_bulk.pk, import_id=customer_import.pk)
    # then the format is told from the amounts, and they are stored as whole rupiah
    assert done.number_format == "id"
    assert (done.created_count, done.failed_count) == (2, 1)
    assert amounts(agents_may_bulk) == [("Ani", {"harga": 1_500_000}), ("Citra", {"harga": 750_000})]
    # and the row with cents fails as the spreadsheet numbers it, naming the column and the value
    with translation.override("en"):
        failed = imports.customer_import_errors(workspace=agents_may_bulk, actor=user, customer_import=done)
    assert [(row.line, row.reason) for row in failed] == [
        (
            3,
            "“Harga”: “Rp 2,5” is not a whole number of rupiah (expected e.g. Rp 1.500.000).",
        )
    ]


def test_the_mapping_step_tells_the_format_from_a_currency_column(acme, price) -> None:
    suggested = imports.customer_import_number_format_suggest(
        workspace=acme,
        headers=["Nama", "Harga"],
        mapping=MAPPING,
        samples=[["Ani", "Rp 1.500.000"], ["Citra", "750.000"]],
    )
    assert suggested == "id"
    english = imports.customer_import_number_format_suggest(
        workspace=acme, headers=["Nama", "Harga"], mapping=MAPPING, samples=[["Ani", "Rp 1,500,000"]]
    )
    assert english == "en"


def test_the_mapping_page_shows_the_format_told_from_a_currency_column(
    acme, alice, price, client_for
) -> None:
    client = client_for(alice)
    response = client.post(BASE, {"file": SimpleUploadedFile("harga.csv", FILE)})
    assert response.status_code == 302
    html = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "As the file shows it (now: Indonesian: 1.500.000,5)" in html


def test_an_outsider_cannot_import_amounts_into_the_workspace(
    acme, globex, charlie, price, client_for
) -> None:
    response = client_for(charlie).post(BASE, {"file": SimpleUploadedFile("harga.csv", FILE)})
    assert response.status_code == 404
    assert not CustomerImport.objects.for_workspace(acme).exists()
    assert not Customer.objects.for_workspace(acme).exists()
