"""The customer import service: formats, validation, error file, duplicates, limits, crash and resume."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.imports.rows import fast_normalize_phone, import_row_prepare
from relasi.customers.imports.writer import BatchSuperseded, import_batch_write
from relasi.customers.models import (
    ChannelIdentity,
    Customer,
    CustomerImport,
    CustomerImportError,
    ImportStatus,
    PropertyDefinition,
)
from relasi.customers.normalize import normalize_phone
from relasi.customers.property_services import property_create
from relasi.customers.services import customer_create
from relasi.tenancy.models import Workspace
from tests.customers.importing import job_of, started


@pytest.fixture(autouse=True)
def _small_batches(settings) -> None:
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 2


def upload(workspace: Workspace, actor: User, content: bytes, name: str = "customers.csv") -> CustomerImport:
    return imports.customer_import_upload(
        workspace=workspace, actor=actor, file=SimpleUploadedFile(name, content), original_name=name
    )


def run(
    workspace: Workspace,
    actor: User,
    content: bytes,
    *,
    name: str = "customers.csv",
    mapping: dict[str, str] | None = None,
    mode: str = "skip",
) -> CustomerImport:
    customer_import = started(workspace, actor, content, name=name, mapping=mapping, mode=mode)
    return imports.customer_import_run(
        workspace_id=customer_import.workspace_id, import_id=customer_import.pk
    )


def customers(workspace: Workspace) -> list[dict[str, Any]]:
    return list(
        Customer.objects.for_workspace(workspace)
        .order_by("pk")
        .values("full_name", "phone", "phone_raw", "email", "city", "status", "source", "properties")
    )


def counts(customer_import: CustomerImport) -> dict[str, Any]:
    customer_import.refresh_from_db()
    return {
        "status": customer_import.status,
        "total": customer_import.total_rows,
        "processed": customer_import.processed_rows,
        "created": customer_import.created_count,
        "updated": customer_import.updated_count,
        "skipped": customer_import.skipped_count,
        "failed": customer_import.failed_count,
    }


PHONE = "is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890)."
CHANNELS = "WhatsApp, Instagram, Facebook Messenger, Telegram, LINE, Live chat (web), Email, TikTok, Other"


def error_file_text(customer_import: CustomerImport) -> str:
    """The error file as its maker downloads it (in the active language, English in tests)."""
    customer_import.refresh_from_db()
    with imports.customer_import_error_file_open(
        workspace=customer_import.workspace, actor=Actor(system="test"), customer_import=customer_import
    ) as handle:
        return handle.read().decode("utf-8")


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- Formats ---------------------------------------------------------------------------------------


def test_bom_semicolon_csv_with_crlf_and_quoted_fields(acme, alice) -> None:
    # given a CSV as Excel saves it in an Indonesian locale: BOM, semicolons, CRLF, quoted fields
    content = (
        "\ufeffNama;No HP;Email;Kota;Catatan\r\n"
        '"Budi; S.Kom";0812-3456-7890;Budi@Example.com;"Jakarta ""Selatan""";\r\n'
        'Siti Aminah;+6285712345678;;Bandung;"baris satu\r\nbaris dua"\r\n'
        ";;;;\r\n"
        "Rina;;;;\r\n"
    ).encode()
    # when it is uploaded, mapped as suggested plus a new property for the notes, and run
    customer_import = upload(acme, alice, content)
    assert customer_import.file_format == "csv"
    assert customer_import.headers == ["Nama", "No HP", "Email", "Kota", "Catatan"]
    assert customer_import.total_rows == 3
    assert imports.customer_import_preview(workspace=acme, actor=alice, customer_import=customer_import) == [
        ["Budi; S.Kom", "0812-3456-7890", "Budi@Example.com", 'Jakarta "Selatan"', ""],
        ["Siti Aminah", "+6285712345678", "", "Bandung", "baris satu\r\nbaris dua"],
        ["Rina", "", "", "", ""],
    ]
    imports.customer_import_start(
        workspace=acme,
        actor=alice,
        import_id=customer_import.pk,
        mapping={"0": "full_name", "1": "phone", "2": "email", "3": "city", "4": "new:Catatan"},
        duplicate_mode="skip",
        enqueue=False,
    )
    result = imports.customer_import_run(
        workspace_id=customer_import.workspace_id, import_id=customer_import.pk
    )
    # then every row is a customer with its values cleaned
    assert counts(result) == {
        "status": "completed",
        "total": 3,
        "processed": 3,
        "created": 3,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert PropertyDefinition.objects.for_workspace(acme).get(key="catatan").label == "Catatan"
    assert customers(acme) == [
        {
            "full_name": "Budi; S.Kom",
            "phone": "+6281234567890",
            "phone_raw": "0812-3456-7890",
            "email": "budi@example.com",
            "city": 'Jakarta "Selatan"',
            "status": "",
            "source": "",
            "properties": {},
        },
        {
            "full_name": "Siti Aminah",
            "phone": "+6285712345678",
            "phone_raw": "+6285712345678",
            "email": "",
            "city": "Bandung",
            "status": "",
            "source": "",
            "properties": {"catatan": "baris satu\r\nbaris dua"},
        },
        {
            "full_name": "Rina",
            "phone": "",
            "phone_raw": "",
            "email": "",
            "city": "",
            "status": "",
            "source": "",
            "properties": {},
        },
    ]
    assert not result.error_file
    created = Customer.objects.for_workspace(acme).order_by("pk")
    assert [(c.source_import_id, c.source_row) for c in created] == [
        (result.pk, 1),
        (result.pk, 2),
        (result.pk, 3),
    ]
    assert {c.added_by_id for c in created} == {alice.pk}
    assert {c.added_by_label for c in created} == {"Alice Owner"}
    assert AuditLog.objects.filter(action="customer.created", workspace=acme).count() == 3
    assert list(
        AuditLog.objects.filter(target_type="customers.customerimport")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["customer_import.uploaded", "customer_import.started", "customer_import.completed"]


def test_comma_csv_without_bom_and_with_lf(acme, alice) -> None:
    content = b'Name,Phone\n"Ani, S.E.",081234567801\nJoko,\n'
    result = run(acme, alice, content)
    assert counts(result)["created"] == 2
    assert [c["full_name"] for c in customers(acme)] == ["Ani, S.E.", "Joko"]


def test_xlsx_first_sheet_with_numbers_and_case_insensitive_choices(acme, alice) -> None:
    # given an XLSX built in Excel: phone typed as a number, a date, a status in lower case
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        ["Nama Lengkap", "Nomor Telepon", "E-mail", "Status", "Channel", "Username", "Tanggal Lahir"]
    )
    sheet.append(
        ["Dewi Lestari", 6281234567890, "dewi@example.com", "lead", "Instagram", "@Dewi.L", date(1990, 5, 17)]
    )
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(["Eko", 81298765432, None, "Customer", "WA", "eko", None])
    sheet.append(["Fajar", "abc", None, None, None, None, "kemarin"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    property_create(workspace=acme, actor=alice, label="Tanggal Lahir", key="tanggal_lahir", kind="date")
    # when it is imported with the suggested mapping
    result = run(acme, alice, buffer.getvalue(), name="pelanggan.xlsx")
    # then
    assert result.file_format == "xlsx"
    assert result.mapping == {
        "0": "full_name",
        "1": "phone",
        "2": "email",
        "3": "status",
        "4": "source",
        "5": "channel_username",
        "6": "tanggal_lahir",
    }
    assert counts(result) == {
        "status": "completed",
        "total": 3,
        "processed": 3,
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert customers(acme) == [
        {
            "full_name": "Dewi Lestari",
            "phone": "+6281234567890",
            "phone_raw": "6281234567890",
            "email": "dewi@example.com",
            "city": "",
            "status": "Lead",
            "source": "instagram",
            "properties": {"tanggal_lahir": "1990-05-17"},
        },
        {
            "full_name": "Eko",
            "phone": "+6281298765432",
            "phone_raw": "81298765432",
            "email": "",
            "city": "",
            "status": "Customer",
            "source": "whatsapp",
            "properties": {},
        },
    ]
    identities = ChannelIdentity.objects.for_workspace(acme).order_by("pk")
    assert [(i.customer.full_name, i.channel, i.external_id) for i in identities] == [
        ("Dewi Lestari", "instagram", "dewi.l"),
        ("Eko", "whatsapp", "eko"),
    ]
    assert error_file_text(result) == (
        "\ufeffNama Lengkap,Nomor Telepon,E-mail,Status,Channel,Username,Tanggal Lahir,row,error\r\n"
        # the spreadsheet's row 5 (header 1, Dewi 2, the blank row 3, Eko 4); the reason holds the delimiter
        f'Fajar,abc,,,,,kemarin,5,"“Nomor Telepon”: “abc” {PHONE} '
        '“Tanggal Lahir”: “kemarin” is not a date (expected YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY)."\r\n'
    )


# --- Validation and the error file ------------------------------------------------------------------


def test_mixed_good_and_bad_rows_give_exact_counts_and_error_file(acme, alice) -> None:
    content = (
        b"Name;Phone;Email;Status;Channel;Username\r\n"
        b"Ani;081234567801;ani@example.com;Lead;;\r\n"
        b"Bad Phone;12ab;bp@example.com;;;\r\n"
        b";081234567802;;;;\r\n"
        b"Bad Email;;not-an-email;;;\r\n"
        b"Bad Status;;;Unknown;;\r\n"
        b"Joko;081234567803;;Customer;;\r\n"
        b"No Channel;;;;;joko_ig\r\n"
        b"Bad Channel;;;;Friendster;x\r\n"
        b'Shifted;0812;3456;7890;"";;extra\r\n'
        b"Two Bad;12ab;@;;;\r\n"
    )
    result = run(acme, alice, content)
    assert counts(result) == {
        "status": "completed",
        "total": 10,
        "processed": 10,
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "failed": 8,
    }
    assert [c["full_name"] for c in customers(acme)] == ["Ani", "Joko"]
    assert list(
        CustomerImportError.objects.for_workspace(acme)
        .filter(customer_import=result)
        .values_list("row_number", "values")
    ) == [
        (2, ["Bad Phone", "12ab", "bp@example.com", "", "", ""]),
        (3, ["", "081234567802", "", "", "", ""]),
        (4, ["Bad Email", "", "not-an-email", "", "", ""]),
        (5, ["Bad Status", "", "", "Unknown", "", ""]),
        (7, ["No Channel", "", "", "", "", "joko_ig"]),
        (8, ["Bad Channel", "", "", "", "Friendster", "x"]),
        (9, ["Shifted", "0812", "3456", "7890", "", "", "extra"]),
        (10, ["Two Bad", "12ab", "@", "", "", ""]),
    ]
    assert error_file_text(result) == (
        "\ufeffName;Phone;Email;Status;Channel;Username;row;error\r\n"
        f"Bad Phone;12ab;bp@example.com;;;;3;“Phone”: “12ab” {PHONE}\r\n"
        # the reason holds the delimiter ";": quoted
        ';081234567802;;;;;4;"“Name” is empty; the field Full name is required."\r\n'
        "Bad Email;;not-an-email;;;;5;“Email”: “not-an-email” is not an email address (expected e.g. "
        "name@example.com).\r\n"
        "Bad Status;;;Unknown;;;6;“Status”: “Unknown” is not one of the options of Status: Lead, Prospect, "
        "Customer, Inactive.\r\n"
        f"No Channel;;;;;joko_ig;8;“Username”: the username “joko_ig” needs its channel. Give the row a "
        f"channel, one of: {CHANNELS}.\r\n"
        f"Bad Channel;;;;Friendster;x;9;“Channel”: “Friendster” is not a channel. Use one of: {CHANNELS}.\r\n"
        # the extra cell is kept in the last column, and the message holds the delimiter: both quoted
        'Shifted;0812;3456;7890;;";extra";10;"The row has 7 values but the header has 6 columns; a value that '
        'holds the delimiter must be in double quotes."\r\n'
        # a cell a spreadsheet would read as a formula (here "@") is written with a leading apostrophe
        f"Two Bad;12ab;'@;;;;11;“Phone”: “12ab” {PHONE} “Email”: “@” is not an email address (expected e.g. "
        "name@example.com).\r\n"
    )
    assert imports.customer_import_error_filename(result) == "customers-errors.csv"


def test_required_custom_property_fails_new_rows_only(acme, alice) -> None:
    property_create(
        workspace=acme, actor=alice, label="Member ID", key="member_id", kind="text", is_required=True
    )
    result = run(acme, alice, b"Name,Member ID\nAni,M-1\nBudi,\n")
    assert counts(result)["created"] == 1
    assert [
        (row.line, row.reason)
        for row in imports.customer_import_errors(workspace=acme, actor=alice, customer_import=result)
    ] == [(3, "Member ID is required for a new customer, and this row has no value for it.")]


def test_fast_phone_path_agrees_with_normalize_phone() -> None:
    samples = [
        "081234567890",
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "(021) 555-1234",
        "0215551234",
        "0812345",
        "08123456789012345",
        "0800123456",
        "62",
        "0",
        "+6221555123",
        "085712345678",
        "0361 234567",
        "+14155552671",
        "0062812345678",
        "+62 0812 3456 7890",
        "null",
        "08a123",
    ]
    for raw in samples:
        try:
            expected: str | None = normalize_phone(raw)
        except ValidationError as error:
            expected = None
            expected_messages = error.messages
        try:
            actual: str | None = fast_normalize_phone(raw)
        except ValidationError as error:
            actual = None
            assert error.messages == expected_messages, raw
        assert actual == expected, raw


# --- Duplicates -----------------------------------------------------------------------------------


DUPLICATES_FILE = (
    b"Nama,Channel,Username,No HP,Email,Kota\n"
    b"Andi Baru,Instagram,@Andi_IG,,,Surabaya\n"  # the channel identity of Andi
    b"Budi Baru,,,+62 812-3456-7890,,Medan\n"  # Budi's phone, written differently
    b"Citra Baru,Telegram,citra_tg,,CITRA@example.com,\n"  # Citra's email
    b"Dewi,,,081299998888,dewi@example.com,Bogor\n"  # new
    b"Dewi Lagi,,,0812-9999-8888,,\n"  # row 4's phone, in a later batch
    b"Fajar,WhatsApp,fajar123,,,\n"  # new
    b"Eka,,,,eka@example.com,Depok\n"  # new
    b"Eka Dua,,,,EKA@example.com,\n"  # row 7's email, in the same batch
)


@pytest.fixture
def existing(acme, alice) -> dict[str, Customer]:
    return {
        "andi": customer_create(
            workspace=acme,
            actor=alice,
            data={"full_name": "Andi Lama", "source": "instagram", "channel_username": "andi_ig"},
        ),
        "budi": customer_create(
            workspace=acme,
            actor=alice,
            data={"full_name": "Budi Lama", "phone": "081234567890", "job_title": "Sales"},
        ),
        "citra": customer_create(
            workspace=acme,
            actor=alice,
            data={"full_name": "Citra Lama", "email": "citra@example.com", "city": "Bandung"},
        ),
    }


def test_duplicates_skipped_by_identity_phone_and_email(acme, alice, existing) -> None:
    before = customers(acme)
    result = run(acme, alice, DUPLICATES_FILE, mode="skip")
    assert counts(result) == {
        "status": "completed",
        "total": 8,
        "processed": 8,
        "created": 3,
        "updated": 0,
        "skipped": 5,
        "failed": 0,
    }
    after = customers(acme)
    assert after[:3] == before
    assert [c["full_name"] for c in after[3:]] == ["Dewi", "Fajar", "Eka"]
    assert not ChannelIdentity.objects.for_workspace(acme).filter(external_id="citra_tg").exists()
    assert AuditLog.objects.filter(action="customer.updated").count() == 0


def test_duplicates_updated_by_identity_phone_and_email(acme, alice, existing) -> None:
    result = run(acme, alice, DUPLICATES_FILE, mode="update")
    assert counts(result) == {
        "status": "completed",
        "total": 8,
        "processed": 8,
        "created": 3,
        "updated": 5,
        "skipped": 0,
        "failed": 0,
    }
    rows = {c.full_name: c for c in Customer.objects.for_workspace(acme).order_by("pk")}
    assert sorted(rows) == ["Andi Baru", "Budi Baru", "Citra Baru", "Dewi Lagi", "Eka Dua", "Fajar"]
    assert rows["Andi Baru"].pk == existing["andi"].pk and rows["Andi Baru"].city == "Surabaya"
    # only the values the row has: Budi keeps his job title, Citra her city
    assert (rows["Budi Baru"].pk, rows["Budi Baru"].city, rows["Budi Baru"].job_title) == (
        existing["budi"].pk,
        "Medan",
        "Sales",
    )
    assert (rows["Citra Baru"].pk, rows["Citra Baru"].city, rows["Citra Baru"].source) == (
        existing["citra"].pk,
        "Bandung",
        "telegram",
    )
    assert (
        ChannelIdentity.objects.for_workspace(acme).get(external_id="citra_tg").customer_id
        == existing["citra"].pk
    )
    assert (rows["Dewi Lagi"].phone, rows["Dewi Lagi"].email, rows["Dewi Lagi"].city) == (
        "+6281299998888",
        "dewi@example.com",
        "Bogor",
    )
    assert (rows["Eka Dua"].email, rows["Eka Dua"].city) == ("eka@example.com", "Depok")
    # audit: one row per created customer, one per existing customer changed (Eka was created in the same batch)
    assert AuditLog.objects.filter(action="customer.created", changes__via="import").count() == 3
    assert sorted(
        AuditLog.objects.filter(action="customer.updated", changes__via="import").values_list(
            "target_label", flat=True
        )
    ) == ["Andi Baru", "Budi Baru", "Citra Baru", "Dewi Lagi"]


def test_the_same_file_again_in_update_mode_changes_nothing_and_says_skipped(acme, alice) -> None:
    # given a file imported once
    content = (
        b"Nama,Channel,Username,No HP,Email,Kota\n"
        b"Andi,Instagram,andi_ig,,,Surabaya\n"
        b"Budi,,,0812-3456-7890,,Medan\n"
        b"Citra,,,,citra@example.com,Bandung\n"
    )
    assert counts(run(acme, alice, content, mode="update"))["created"] == 3
    before = customers(acme)
    audit_before = AuditLog.objects.count()
    # when the very same file is imported again in update mode
    result = run(acme, alice, content, mode="update")
    # then every row is a duplicate that changes nothing: skipped, not "updated"
    assert counts(result) == {
        "status": "completed",
        "total": 3,
        "processed": 3,
        "created": 0,
        "updated": 0,
        "skipped": 3,
        "failed": 0,
    }
    assert customers(acme) == before
    assert not AuditLog.objects.filter(action="customer.updated").exists()
    assert AuditLog.objects.count() == audit_before + 3  # uploaded, started, completed


def test_a_deleted_customer_is_not_a_phone_duplicate(acme, alice) -> None:
    from relasi.customers.services import customers_delete

    gone = customer_create(workspace=acme, actor=alice, data={"full_name": "Gone", "phone": "081234567890"})
    customers_delete(workspace=acme, actor=alice, customer_ids=[gone.pk])
    result = run(acme, alice, b"Name,Phone\nBack,081234567890\n")
    assert (result.created_count, result.skipped_count) == (1, 0)


def test_duplicates_of_another_workspace_do_not_count(acme, alice, globex, charlie) -> None:
    customer_create(workspace=globex, actor=charlie, data={"full_name": "Other", "phone": "081234567890"})
    result = run(acme, alice, b"Name,Phone\nMine,081234567890\n")
    assert (result.created_count, result.skipped_count) == (1, 0)


# --- Limits and refusals ----------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_any_work(acme, alice, settings) -> None:
    settings.CUSTOMER_IMPORT_MAX_BYTES = 40
    with pytest.raises(ValidationError) as refused:
        upload(acme, alice, b"Name,Phone\n" + b"Someone,081234567890\n" * 3)
    assert imports.refusal_code(refused.value) == imports.TOO_LARGE
    assert refused.value.message_dict == {
        "file": ["The file is 74 bytes; the limit is 40 bytes. Split it into smaller files."]
    }
    assert CustomerImport.objects.for_workspace(acme).count() == 0
    assert media_files(settings) == []
    assert AuditLog.objects.filter(target_type="customers.customerimport").count() == 0


def test_a_file_over_the_row_limit_is_refused_before_any_work(acme, alice, settings) -> None:
    settings.CUSTOMER_IMPORT_MAX_ROWS = 3
    assert upload(acme, alice, b"Name\nA\nB\n\nC\n").total_rows == 3
    with pytest.raises(ValidationError) as refused:
        upload(acme, alice, b"Name\nA\nB\nC\nD\n")
    assert imports.refusal_code(refused.value) == imports.TOO_MANY_ROWS
    assert refused.value.message_dict == {
        "file": ["The file has more than 3 rows; the limit is 3. Split it into smaller files."]
    }
    assert CustomerImport.objects.for_workspace(acme).count() == 1
    assert len(media_files(settings)) == 1
    assert Customer.objects.for_workspace(acme).count() == 0


def test_an_xlsx_over_the_row_limit_is_refused(acme, alice, settings) -> None:
    settings.CUSTOMER_IMPORT_MAX_ROWS = 2
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["Nama"], ["A"], ["B"], ["C"]):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ValidationError) as refused:
        upload(acme, alice, buffer.getvalue(), "big.xlsx")
    assert imports.refusal_code(refused.value) == imports.TOO_MANY_ROWS


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX.",
        ),
        (
            "Name\nJosé\n".encode("utf-16"),
            "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX.",
        ),
        (
            "Name\nJos\xe9\n".encode("latin-1"),
            "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX.",
        ),
        (
            b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n",
            "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX.",
        ),
        (_zip(["word/document.xml"]), "This is not a CSV or XLSX file. Save it as CSV (UTF-8) or XLSX."),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "Old Excel files (.xls) are not supported. Save the sheet as XLSX or CSV (UTF-8).",
        ),
    ],
    ids=["png", "utf16", "latin1", "pdf", "docx", "xls"],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused(
    acme, alice, settings, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        upload(acme, alice, content, "customers.csv")
    assert imports.refusal_code(refused.value) == imports.UNSUPPORTED
    assert refused.value.message_dict == {"file": [message]}
    assert CustomerImport.objects.for_workspace(acme).count() == 0
    assert media_files(settings) == []


def test_a_damaged_xlsx_and_empty_files_are_refused(acme, alice) -> None:
    for content, code in [
        (_zip(["xl/workbook.xml"]), imports.UNREADABLE),
        (b"", imports.EMPTY),
        (b"\n\n", imports.EMPTY),
        (b"Name,Phone\n", imports.EMPTY),
    ]:
        with pytest.raises(ValidationError) as refused:
            upload(acme, alice, content, "x.xlsx")
        assert imports.refusal_code(refused.value) == code, content
    assert CustomerImport.objects.for_workspace(acme).count() == 0


# --- Mapping -------------------------------------------------------------------------------------------


def test_suggestions_for_indonesian_and_english_headers(acme, alice) -> None:
    property_create(workspace=acme, actor=alice, label="Tanggal Lahir", key="tanggal_lahir", kind="date")
    property_create(workspace=acme, actor=alice, label="Member", key="member_code", kind="text")
    headers = [
        "Nama",
        "No HP",
        "Email",
        "Kota",
        "Provinsi",
        "Kecamatan",
        "Kelurahan",
        "Kode Pos",
        "Jabatan",
        "Status",
        "Sumber",
        "Username",
        "Tanggal Lahir",
        "member_code",
        "Warna Favorit",
        "No. Telp",
    ]
    assert imports.customer_import_suggest_mapping(workspace=acme, headers=headers) == {
        "0": "full_name",
        "1": "phone",
        "2": "email",
        "3": "city",
        "4": "province",
        "5": "district",
        "6": "subdistrict",
        "7": "zip_code",
        "8": "job_title",
        "9": "status",
        "10": "source",
        "11": "channel_username",
        "12": "tanggal_lahir",
        "13": "member_code",
        "14": "",
        "15": "",  # a second phone column: the first one wins
    }


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Nama Lengkap", "full_name"),
        ("Name", "full_name"),
        ("Full name", "full_name"),
        ("Nomor Telepon", "phone"),
        ("No. Telp", "phone"),
        ("Phone", "phone"),
        ("WhatsApp", "phone"),
        ("E-mail", "email"),
        ("Surel", "email"),
        ("Kabupaten/Kota", "city"),
        ("City", "city"),
        ("Desa", "subdistrict"),
        ("Pekerjaan", "job_title"),
        ("Channel", "source"),
        ("Source", "source"),
        ("Regency/City", "city"),
        ("Phone number", "phone"),
    ],
)
def test_each_known_header_is_suggested(acme, header: str, target: str) -> None:
    assert imports.customer_import_suggest_mapping(workspace=acme, headers=[header]) == {"0": target}


def test_start_refuses_a_bad_mapping_and_changes_nothing(acme, alice) -> None:
    customer_import = upload(acme, alice, b"Nama,HP,Catatan\nAni,0812,x\n")
    properties_before = PropertyDefinition.objects.for_workspace(acme).count()
    cases: list[tuple[dict[str, str], str, dict[str, list[str]]]] = [
        (
            {"1": "phone", "2": "new:Catatan"},
            "skip",
            {"mapping": ["Choose the column that holds the customer's full name."]},
        ),
        (
            {"0": "full_name", "1": "nope"},
            "skip",
            {"mapping.1": ["“nope” is not a field you can import into."]},
        ),
        (
            {"0": "full_name", "1": "phone", "2": "phone"},
            "skip",
            {"mapping.2": ["Phone number is already imported from the column “HP”."]},
        ),
        ({"0": "full_name", "7": "phone"}, "skip", {"mapping": ["There is no column 7 in the file."]}),
        ({"0": "full_name", "2": "new: "}, "skip", {"mapping.2": ["Give the new property a name."]}),
        (
            {"0": "full_name"},
            "merge",
            {"duplicate_mode": ["Choose whether duplicates are skipped or updated."]},
        ),
    ]
    for mapping, mode, errors in cases:
        with pytest.raises(ValidationError) as refused:
            imports.customer_import_start(
                workspace=acme,
                actor=alice,
                import_id=customer_import.pk,
                mapping=mapping,
                duplicate_mode=mode,
            )
        assert refused.value.message_dict == errors
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.mapping) == ("uploaded", {})
    assert PropertyDefinition.objects.for_workspace(acme).count() == properties_before


def test_start_queues_the_job_after_commit(acme, alice, django_capture_on_commit_callbacks) -> None:
    customer_import = upload(acme, alice, b"Nama,Kota\nAni,Medan\n")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        imports.customer_import_start(
            workspace=acme,
            actor=alice,
            import_id=customer_import.pk,
            mapping={"0": "full_name", "1": "new:Kota Asal"},
            duplicate_mode="skip",
        )
    assert len(callbacks) == 1
    customer_import.refresh_from_db()
    assert customer_import.mapping == {"0": "full_name", "1": "kota_asal"}
    assert customer_import.status == "completed"
    assert customers(acme)[0]["properties"] == {"kota_asal": "Medan"}
    with pytest.raises(ValidationError):
        imports.customer_import_start(
            workspace=acme,
            actor=alice,
            import_id=customer_import.pk,
            mapping={"0": "full_name"},
            duplicate_mode="skip",
        )


def test_start_and_read_of_another_workspace_are_404(acme, alice, globex, charlie) -> None:
    from django.http import Http404

    customer_import = upload(acme, alice, b"Nama\nAni\n")
    with pytest.raises(Http404):
        imports.customer_import_start(
            workspace=globex,
            actor=charlie,
            import_id=customer_import.pk,
            mapping={"0": "full_name"},
            duplicate_mode="skip",
        )
    with pytest.raises(Http404):
        imports.customer_import_get(workspace=globex, import_id=customer_import.pk)
    customer_import.refresh_from_db()
    assert customer_import.status == "uploaded"


# --- Crash safety --------------------------------------------------------------------------------------


def test_a_job_interrupted_after_its_first_batch_resumes_without_duplicates_or_lost_rows(
    acme, alice, second_batch_dies
) -> None:
    # given a 5-row import (batches of 2) whose second batch dies once
    content = b"Nama,No HP\nA,081200000001\nB,081200000002\nC,081200000003\nBad,12ab\nE,081200000005\n"
    customer_import = started(acme, alice, content, mapping={"0": "full_name", "1": "phone"})
    calls = second_batch_dies("worker killed")
    # when the job runs, it stops after the first batch and says so
    with pytest.raises(RuntimeError):
        imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    assert counts(customer_import) == {
        "status": "failed",
        "total": 5,
        "processed": 2,
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert customer_import.failure_reason == "RuntimeError: worker killed"
    assert [c["full_name"] for c in customers(acme)] == ["A", "B"]
    # when it runs again (the broken batch now succeeds)
    result = imports.customer_import_run(
        workspace_id=customer_import.workspace_id, import_id=customer_import.pk
    )
    # then it continues after the checkpoint: every row exactly once
    assert counts(result) == {
        "status": "completed",
        "total": 5,
        "processed": 5,
        "created": 4,
        "updated": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert calls["count"] == 4  # batches 1, 2 (dies), then 2 and 3 again
    assert list(
        Customer.objects.for_workspace(acme).order_by("source_row").values_list("full_name", "source_row")
    ) == [
        ("A", 1),
        ("B", 2),
        ("C", 3),
        ("E", 5),
    ]
    assert list(result.errors.values_list("row_number", flat=True)) == [4]
    assert AuditLog.objects.filter(action="customer.created").count() == 4
    assert (
        error_file_text(result)
        == "\ufeffNama,No HP,row,error\r\nBad,12ab,5,“No HP”: “12ab” is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890).\r\n"
    )
    # and running a completed import again changes nothing
    assert (
        counts(
            imports.customer_import_run(
                workspace_id=customer_import.workspace_id, import_id=customer_import.pk
            )
        )["created"]
        == 4
    )
    assert Customer.objects.for_workspace(acme).count() == 4


def test_a_job_killed_without_a_trace_resumes_from_running(acme, alice) -> None:
    customer_import = started(acme, alice, b"Nama\nA\nB\nC\n", mapping={"0": "full_name"})
    # given a worker that wrote the first batch and died (status still RUNNING, checkpoint at 2)
    job = job_of(customer_import)
    import_batch_write(job, [import_row_prepare(job, 1, ["A"]), import_row_prepare(job, 2, ["B"])])
    CustomerImport.unscoped.filter(pk=customer_import.pk).update(status=ImportStatus.RUNNING)
    # when the job is delivered again
    result = imports.customer_import_run(
        workspace_id=customer_import.workspace_id, import_id=customer_import.pk
    )
    assert counts(result)["created"] == 3
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == ["A", "B", "C"]


def test_a_stale_run_stops_when_another_moved_the_checkpoint(acme, alice) -> None:
    customer_import = started(acme, alice, b"Nama\nA\nB\nC\n", mapping={"0": "full_name"})
    job = job_of(customer_import)
    rows = [import_row_prepare(job, 1, ["A"]), import_row_prepare(job, 2, ["B"])]
    import_batch_write(job, rows)
    # a second runner holding the same first batch cannot write it again
    with pytest.raises(BatchSuperseded):
        import_batch_write(job, rows)
    assert Customer.objects.for_workspace(acme).count() == 2


def test_an_import_by_api_key_is_added_by_the_key(acme, alice) -> None:
    from relasi.core.audit import Actor
    from relasi.tenancy.services import api_key_create

    issued = api_key_create(workspace=acme, actor=alice, name="Shop sync")
    customer_import = imports.customer_import_upload_and_start(
        workspace=acme,
        actor=Actor(api_key=issued.api_key),
        file=SimpleUploadedFile("x.csv", b"Nama\nAni\n"),
        original_name="x.csv",
        mapping=None,
        duplicate_mode="skip",
        enqueue=False,
    )
    imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    customer = Customer.objects.for_workspace(acme).get()
    assert (customer.added_by_id, customer.added_by_label) == (None, "API: Shop sync")
