"""Counts and values on the import pages in the reader's language (issue 9 item 3): progress, result, undo,
recent imports, mapping and the skipped duplicates, grouped in thousands (30,258 / 30.258); the duplicates'
phones in the international style and their empty cells as "—"."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relasi.accounts.models import User
from relasi.customers import imports
from relasi.customers.models import Customer, CustomerImport, CustomerImportDuplicate
from relasi.customers.services import customer_create
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

BASE = "/app/acme/customers/imports/"
# Ani matches on her phone and Budi on his email; Citra is new.
FILE = b"Nama,No HP,Email\r\nAni lagi,0812-0000-0243,\r\nBudi lagi,,budi@example.com\r\nCitra,,\r\n"
# Counts of a large import, written onto a small one: the pages only read them.
LARGE = {
    "total_rows": 30258,
    "processed_rows": 30258,
    "created_count": 27000,
    "updated_count": 1234,
    "skipped_count": 1012,
    "failed_count": 1012,
}
UNDONE = {
    "undo_status": "completed",
    "undo_deleted_count": 26500,
    "undo_reverted_count": 1234,
    "undo_kept_count": 1500,
    "undo_gone_count": 2000,
}


def page(client: Client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def large(acme: Workspace, alice: User) -> tuple[CustomerImport, Customer]:
    """A finished import (Ani and Budi skipped, Citra created, no failed row) with the counts of a large one."""
    ani = customer_create(workspace=acme, actor=alice, data={"full_name": "Ani", "phone": "081200000243"})
    customer_create(workspace=acme, actor=alice, data={"full_name": "Budi", "email": "budi@example.com"})
    customer_import = started(acme, alice, FILE, mapping={"0": "full_name", "1": "phone", "2": "email"})
    customer_import = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (customer_import.created_count, customer_import.skipped_count) == (1, 2)
    CustomerImport.objects.for_workspace(acme).filter(pk=customer_import.pk).update(**LARGE)
    customer_import.refresh_from_db()
    return customer_import, ani


@pytest.mark.parametrize("member", ["alice", "bob"])
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "30,258 of 30,258 rows",
                'data-testid="count-created">27,000<',
                'data-testid="count-updated">1,234<',
                'data-testid="count-skipped">1,012<',
                'data-testid="count-failed">1,012<',
                "See all 1,012 skipped rows",
                "Delete the 27,000 customers this import created and put back the values of the 1,234 customers "
                "it updated?",
            ],
        ),
        (
            "id",
            [
                "30.258 dari 30.258 baris",
                'data-testid="count-created">27.000<',
                'data-testid="count-updated">1.234<',
                'data-testid="count-skipped">1.012<',
                'data-testid="count-failed">1.012<',
                "Lihat semua 1.012 baris yang dilewati",
                "Hapus 27.000 pelanggan yang ditambahkan impor ini dan kembalikan nilai 1.234 pelanggan yang "
                "diperbaruinya?",
            ],
        ),
    ],
)
def test_result_counts_are_grouped_in_the_readers_language(
    member: str, language: str, expected: list[str], large, request, client_for, agents_may_bulk
) -> None:
    # given a finished import of 30,258 rows, and an owner or an agent who may import
    customer_import, _ani = large
    # when they open its result in English or Indonesian
    text = page(
        client_for(request.getfixturevalue(member)), f"{BASE}{customer_import.pk}/progress/", language
    )
    # then every count is grouped the reader's way
    for fragment in expected:
        assert fragment in text, fragment
    assert "30258" not in text and "27000" not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "26,500 customers it created deleted (restorable from Deleted for 30 days)",
                "1,234 customers it updated have their previous values back",
                "1,500 customers were kept as they are: someone edited them after the import",
                "2,000 customers it created had already been deleted",
            ],
        ),
        (
            "id",
            [
                "26.500 pelanggan yang ditambahkan impor ini dihapus (dapat dipulihkan dari tab Dihapus selama 30 hari)",
                "1.234 pelanggan yang diperbarui impor ini kembali ke nilai sebelumnya",
                "1.500 pelanggan dibiarkan apa adanya: sudah diedit seseorang setelah impor",
                "2.000 pelanggan yang ditambahkan impor ini sudah dihapus sebelumnya",
            ],
        ),
    ],
)
def test_undo_counts_are_grouped_in_the_readers_language(
    language: str, expected: list[str], acme, alice, large, client_for
) -> None:
    # given a large import that has been undone
    customer_import, _ani = large
    CustomerImport.objects.for_workspace(acme).filter(pk=customer_import.pk).update(**UNDONE)
    # when its owner opens it
    text = page(client_for(alice), f"{BASE}{customer_import.pk}/progress/", language)
    # then the undo's counts are grouped the reader's way
    for fragment in expected:
        assert fragment in text, fragment


def test_the_error_file_line_counts_every_failed_row_grouped(acme, alice, client_for) -> None:
    # given an import with more failed rows than the page lists
    content = b"Nama,No HP\r\n" + b"".join(b"Ani %d,12ab\r\n" % number for number in range(25))
    customer_import = started(acme, alice, content)
    customer_import = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert customer_import.failed_count == 25
    CustomerImport.objects.for_workspace(acme).filter(pk=customer_import.pk).update(failed_count=1012)
    # when its owner opens it in each language, then the count is grouped
    url = f"{BASE}{customer_import.pk}/progress/"
    assert "The error file lists all 1,012 failed rows." in page(client_for(alice), url, "en")
    assert "File error berisi semua 1.012 baris yang gagal." in page(client_for(alice), url, "id")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            '<td class="text-end">30,258</td>\n    <td class="text-end">27,000</td><td class="text-end">1,234</td>',
        ),
        (
            "id",
            '<td class="text-end">30.258</td>\n    <td class="text-end">27.000</td><td class="text-end">1.234</td>',
        ),
    ],
)
def test_recent_imports_show_grouped_counts(
    language: str, expected: str, alice, large, client_for, agents_may_bulk, bob
) -> None:
    # given a large import; when the owner and an agent who may import open the upload page
    for user in (alice, bob):
        text = page(client_for(user), BASE, language)
        # then its counts are grouped the reader's way
        assert expected in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "data.csv: 30,258 customer rows."), ("id", "data.csv: 30.258 baris pelanggan.")],
)
def test_mapping_page_shows_the_row_count_grouped(
    language: str, expected: str, acme, alice, client_for
) -> None:
    # given an uploaded file of 30,258 rows
    customer_import = imports.customer_import_upload(
        workspace=acme, actor=alice, file=SimpleUploadedFile("data.csv", FILE), original_name="data.csv"
    )
    CustomerImport.objects.for_workspace(acme).filter(pk=customer_import.pk).update(total_rows=30258)
    # when its owner maps its columns, then the count is grouped
    assert expected in page(client_for(alice), f"{BASE}{customer_import.pk}/", language)


@pytest.mark.parametrize("member", ["alice", "bob"])
@pytest.mark.parametrize(
    ("language", "heading", "matched"),
    [
        ("en", "1,012 rows skipped as duplicate", "Phone number: <span"),
        ("id", "1.012 baris dilewati karena duplikat", "Nomor telepon: <span"),
    ],
)
def test_duplicates_page_groups_the_count_formats_phones_and_dashes_empty_cells(
    member: str, language: str, heading: str, matched: str, acme, large, request, client_for
) -> None:
    # given a large import whose skipped rows include a phone match and one kept without its value
    customer_import, ani = large
    budi = Customer.objects.for_workspace(acme).get(full_name="Budi")
    CustomerImportDuplicate.objects.create(
        workspace=acme,
        customer_import=customer_import,
        row_number=9,
        line=10,
        customer=budi,
        matched_on="email",
        matched_value="",
    )
    # when an owner or an agent opens the skipped rows
    text = page(
        client_for(request.getfixturevalue(member)), f"{BASE}{customer_import.pk}/duplicates/", language
    )
    # then the count is grouped, the phone is in the international style and the empty value is a dash
    assert f'<h1 class="h3 mb-3">{heading}</h1>' in text
    assert f'{matched} class="text-break">+62 812-0000-0243</span>' in text
    assert "+6281200000243" not in text
    assert 'class="text-break">budi@example.com</span>' in text
    assert 'class="text-break">—</span>' in text
    assert f'<a href="/app/acme/customers/{ani.pk}/">Ani</a>' in text


def test_outsider_sees_no_counts(acme, large, charlie, client_for) -> None:
    # given an import of acme; when someone of another workspace asks for its pages, then they are not found
    customer_import, _ani = large
    for url in (f"{BASE}{customer_import.pk}/progress/", f"{BASE}{customer_import.pk}/duplicates/", BASE):
        assert client_for(charlie).get(url).status_code == 404
    # and nothing changed
    customer_import.refresh_from_db()
    assert (customer_import.created_count, customer_import.skipped_count) == (27000, 1012)
