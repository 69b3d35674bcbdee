"""Imports from the contact exports people already have (issue 9 item 11): the mapping suggested for each, from a
file of that format (tests/customers/exports, their real header rows), and what the import makes of a row."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from relasi.customers import imports
from relasi.customers.models import Customer, PropertyDefinition
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

EXPORTS = Path(__file__).parent / "exports"


def rows_of(name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((EXPORTS / name).read_text(encoding="utf-8"))))


def xlsx_of(rows: list[list[str]]) -> bytes:
    """The sheet as Excel saves it (the file a person typed in Excel, not a CSV)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def by_header(headers: list[str], mapping: dict[str, Any]) -> dict[str, Any]:
    """The suggested mapping with the file's headers for its column numbers, unmapped columns left out."""
    return {headers[int(index)]: target for index, target in mapping.items() if target}


NAME_PARTS = {
    "First Name": {"field": "full_name", "part": 1},
    "Middle Name": {"field": "full_name", "part": 2},
    "Last Name": {"field": "full_name", "part": 3},
}

EXPECTED = {
    "google-contacts.csv": (
        "google",
        {
            **NAME_PARTS,
            "Organization Name": {"field": "full_name", "fallback": True},
            "Organization Title": "job_title",
            "E-mail 1 - Value": "email",
            # the sample holds "a ::: b": the first number is the phone, the others go to a new text property
            "Phone 1 - Value": {"field": "phone", "rest": "new:Other phone numbers"},
            "Address 1 - City": "city",
            "Address 1 - Region": "province",
            "Address 1 - Postal Code": "zip_code",
        },
    ),
    "outlook.csv": (
        "outlook",
        {
            # "Title" is Outlook's name prefix (Bapak, Ibu), not a job title: left out
            **NAME_PARTS,
            "E-mail Address": "email",
            "Mobile Phone": "phone",  # the number a customer is reached on, before Home and Business Phone
            "Job Title": "job_title",
            "Company": {"field": "full_name", "fallback": True},
            "Business City": "city",
            "Business State": "province",
            "Business Postal Code": "zip_code",
        },
    ),
    "hubspot.csv": (
        "hubspot",
        {
            "First Name": {"field": "full_name", "part": 1},
            "Last Name": {"field": "full_name", "part": 3},
            "Email": "email",
            "Mobile Phone Number": "phone",
            "Company Name": {"field": "full_name", "fallback": True},
            "Job Title": "job_title",
            "City": "city",
            "State/Region": "province",
            "Postal Code": "zip_code",
        },
    ),
    "whatsapp-business.csv": ("whatsapp", {"Name": "full_name", "Phone": "phone"}),
    "excel-en.csv": (
        "sheet",
        {
            "Name": "full_name",
            "Phone": "phone",
            "Email": "email",
            "Company": {"field": "full_name", "fallback": True},
            "Job Title": "job_title",
            "City": "city",
            "Province": "province",
            "Zip Code": "zip_code",
        },
    ),
    "excel-id.csv": (
        "sheet",
        {
            "Nama": "full_name",
            "No. HP": "phone",
            "Email": "email",
            "Perusahaan": {"field": "full_name", "fallback": True},
            "Jabatan": "job_title",
            "Kota": "city",
            "Provinsi": "province",
            "Kode Pos": "zip_code",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_suggested_mapping_for_each_export(name: str, acme: Workspace) -> None:
    # given a file in that export's format
    rows = rows_of(name)
    # when the mapping step suggests a mapping for someone who may add properties
    suggestion = imports.customer_import_suggest(
        workspace=acme, headers=rows[0], samples=rows[1:], may_add_properties=True
    )
    # then
    export, mapping = EXPECTED[name]
    assert suggestion.export == export
    assert by_header(rows[0], suggestion.mapping) == mapping


@pytest.mark.parametrize("name", ["excel-en.csv", "excel-id.csv"])
def test_excel_sheets_get_the_same_suggestion_from_xlsx(name: str, acme: Workspace, alice) -> None:
    # given the sheet saved by Excel
    rows = rows_of(name)
    customer_import = imports.customer_import_upload(
        workspace=acme,
        actor=alice,
        file=io.BytesIO(xlsx_of(rows)),
        original_name=name.replace(".csv", ".xlsx"),
    )
    # when the mapping step reads the stored file
    suggestion = imports.customer_import_suggest(
        workspace=acme,
        headers=customer_import.headers,
        samples=imports.customer_import_samples(customer_import=customer_import),
    )
    # then
    assert customer_import.file_format == "xlsx"
    assert by_header(customer_import.headers, suggestion.mapping) == EXPECTED[name][1]


def customers_of(workspace: Workspace) -> list[dict[str, Any]]:
    return list(
        Customer.objects.for_workspace(workspace)
        .order_by("pk")
        .values("full_name", "phone", "email", "job_title", "city", "province", "zip_code", "properties")
    )


def run_suggested(workspace: Workspace, actor, name: str) -> None:
    rows = rows_of(name)
    mapping = imports.customer_import_suggest(
        workspace=workspace, headers=rows[0], samples=rows[1:], may_add_properties=True
    ).mapping
    customer_import = started(workspace, actor, (EXPORTS / name).read_bytes(), name=name, mapping=mapping)
    done = imports.customer_import_run(workspace_id=workspace.pk, import_id=customer_import.pk)
    assert (done.status, done.failed_count) == ("completed", 0)


def test_google_contacts_rows_become_customers(acme: Workspace, alice) -> None:
    # when a Google Contacts export is imported with the suggested mapping
    run_suggested(acme, alice, "google-contacts.csv")
    # then the name parts are joined, a row without a person's name takes the organisation's, the first phone
    # of "a ::: b" is the phone and the other is kept in the new text property, address parts fill the fields
    other = PropertyDefinition.objects.for_workspace(acme).get(label="Other phone numbers")
    assert (other.kind, other.is_builtin) == ("text", False)
    assert customers_of(acme) == [
        {
            "full_name": "Dewi Ayu Lestari",
            "phone": "+628111111111",
            "email": "dewi@sinarjaya.co.id",
            "job_title": "Manajer Pembelian",
            "city": "Bandung",
            "province": "Jawa Barat",
            "zip_code": "40111",
            "properties": {other.key: "0812 2222 2222"},
        },
        {
            "full_name": "Toko Maju",
            "phone": "+6281333333333",
            "email": "",
            "job_title": "",
            "city": "Surabaya",
            "province": "Jawa Timur",
            "zip_code": "60111",
            "properties": {},
        },
    ]


def test_outlook_and_hubspot_rows_become_customers(acme: Workspace, alice) -> None:
    run_suggested(acme, alice, "outlook.csv")
    run_suggested(acme, alice, "hubspot.csv")
    assert customers_of(acme) == [
        {
            "full_name": "Budi Santoso",
            "phone": "+6281234567890",
            "email": "budi@example.co.id",
            "job_title": "Direktur",
            "city": "Jakarta Selatan",
            "province": "DKI Jakarta",
            "zip_code": "12190",
            "properties": {},
        },
        {
            "full_name": "Citra Wulandari",
            "phone": "+6281311112222",
            "email": "citra@example.com",
            "job_title": "Marketing Lead",
            "city": "Yogyakarta",
            "province": "DI Yogyakarta",
            "zip_code": "55281",
            "properties": {},
        },
    ]
