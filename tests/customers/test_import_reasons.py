"""Import errors a user can act on (issue 9 item 5): each reason names the file's column, the value and what is
expected; rows numbered as the spreadsheet shows them; skipped duplicates linked to the customer they matched;
reasons worded in the reader's language (the page, the API and the error file)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import translation

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.customers import imports
from relasi.customers.models import ChannelIdentity, Customer, CustomerImport
from relasi.customers.property_services import property_create
from relasi.customers.services import customer_create
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

BASE = "/app/acme/customers/imports/"
API = "/api/v1/customer-imports"

# Header = row 1. Row 3 is blank (not counted as a customer, still a row of the spreadsheet).
FILE = (
    b"Nama;Budget;Paket;Langganan;Situs\r\n"
    b"Ani;1.500.000;Pro;ya;https://ani.example\r\n"
    b";;;;\r\n"
    b"Budi;lima juta;Gold;mungkin;ani dot com\r\n"
    b"Citra;2,5;basic;tidak;\r\n"
)
MAPPING = {"0": "full_name", "1": "budget", "2": "paket", "3": "langganan", "4": "situs"}


@pytest.fixture
def properties(acme: Workspace, alice: User) -> None:
    property_create(workspace=acme, actor=alice, label="Budget", key="budget", kind="number")
    property_create(
        workspace=acme, actor=alice, label="Paket", key="paket", kind="select", options=["Basic", "Pro"]
    )
    property_create(workspace=acme, actor=alice, label="Langganan", key="langganan", kind="boolean")
    property_create(workspace=acme, actor=alice, label="Situs", key="situs", kind="url")


@pytest.fixture
def imported(acme: Workspace, alice: User, properties) -> CustomerImport:
    customer_import = started(acme, alice, FILE, name="pelanggan.csv", mapping=MAPPING)
    return imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)


BUDI_EN = (
    "“Budget”: “lima juta” is not a number (expected e.g. 1.500.000,5). "
    "“Paket”: “Gold” is not one of the options of Paket: Basic, Pro. "
    "“Langganan”: “mungkin” is not yes or no (expected yes/no, ya/tidak, true/false or 1/0). "
    "“Situs”: “ani dot com” is not a web address (expected e.g. https://example.com)."
)
BUDI_ID = (
    "“Budget”: “lima juta” bukan angka (contoh yang benar: 1.500.000,5). "
    "“Paket”: “Gold” bukan salah satu pilihan Paket: Basic, Pro. "
    "“Langganan”: “mungkin” bukan ya atau tidak (gunakan yes/no, ya/tidak, true/false, atau 1/0). "
    "“Situs”: “ani dot com” bukan alamat web (contoh yang benar: https://example.com)."
)


def test_each_reason_names_the_column_the_value_and_what_is_expected(acme, alice, imported) -> None:
    # given the file's numbers written the Indonesian way (told from the Budget column)
    assert imported.number_format == "id"
    assert (imported.created_count, imported.failed_count) == (2, 1)
    assert list(
        Customer.objects.for_workspace(acme).order_by("pk").values_list("full_name", "properties")
    ) == [
        ("Ani", {"budget": 1500000, "paket": "Pro", "langganan": True, "situs": "https://ani.example"}),
        ("Citra", {"budget": 2.5, "paket": "Basic", "langganan": False}),
    ]
    # then the failed row is the spreadsheet's row 4, with one reason per bad cell, as codes and as words
    with translation.override("en"):
        failed = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=imported)
    assert [(row.line, row.reason) for row in failed] == [(4, BUDI_EN)]
    assert failed[0].reasons == [
        {"code": "number", "column": "Budget", "field": "budget", "value": "lima juta", "style": "id"},
        {"code": "choice", "column": "Paket", "field": "paket", "value": "Gold", "choices": ["Basic", "Pro"]},
        {"code": "boolean", "column": "Langganan", "field": "langganan", "value": "mungkin"},
        {"code": "url", "column": "Situs", "field": "situs", "value": "ani dot com"},
    ]


def test_reasons_are_worded_in_the_readers_language(acme, alice, imported) -> None:
    # given an import that ran in English
    # when an Indonesian reader asks for its failed rows
    with translation.override("id"):
        failed = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=imported)
        with imports.customer_import_error_file_open(
            workspace=acme, actor=Actor(user=alice), customer_import=imported
        ) as handle:
            error_file = handle.read().decode("utf-8")
    # then the same stored reasons read in Indonesian, in the list and in the error file
    assert [(row.line, row.reason) for row in failed] == [(4, BUDI_ID)]
    assert error_file == (
        # the columns `row` and `error` keep their names in every language (programs read them)
        "\ufeffNama;Budget;Paket;Langganan;Situs;row;error\r\n"
        f"Budi;lima juta;Gold;mungkin;ani dot com;4;{BUDI_ID}\r\n"
    )


def test_the_error_file_is_in_the_language_of_whoever_downloads_it(
    acme, alice, dave, imported, client_for: Callable[[User], Client]
) -> None:
    url = f"{BASE}{imported.pk}/errors.csv"
    english = b"".join(client_for(alice).get(url, HTTP_ACCEPT_LANGUAGE="en").streaming_content).decode()
    indonesian = b"".join(client_for(dave).get(url, HTTP_ACCEPT_LANGUAGE="id").streaming_content).decode()
    assert english.splitlines()[1] == f"Budi;lima juta;Gold;mungkin;ani dot com;4;{BUDI_EN}"
    assert indonesian.splitlines()[1] == f"Budi;lima juta;Gold;mungkin;ani dot com;4;{BUDI_ID}"


def test_a_key_may_not_read_the_failed_rows_of_a_persons_import(acme, imported, acme_key) -> None:
    # given the key of the workspace (not the import's maker: it needs the owner's permission to read others'
    # files, which API keys do not have)
    response = Client().get(f"{API}/{imported.pk}/failed-rows", HTTP_ACCEPT_LANGUAGE="en", **acme_key)
    assert response.status_code == 403


def test_page_shows_failed_rows_with_spreadsheet_row_numbers(acme, alice, imported, client_for) -> None:
    text = client_for(alice).get(f"{BASE}{imported.pk}/progress/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<td>4</td><td>“Budget”: “lima juta” is not a number (expected e.g. 1.500.000,5)." in text


def test_a_postal_code_that_is_not_five_digits_is_a_coded_reason_in_the_readers_language(acme, alice) -> None:
    # given a file with a postal code holding a letter, imported while the page was in Indonesian
    content = b"Nama,Kode Pos\r\nAni,40115\r\nBudi,4011A\r\n"
    with translation.override("id"):
        customer_import = started(acme, alice, content, mapping={"0": "full_name", "1": "zip_code"})
        result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (result.created_count, result.failed_count) == (1, 1)
    assert list(Customer.objects.for_workspace(acme).values_list("full_name", "zip_code")) == [
        ("Ani", "40115")
    ]
    # when an English reader and then an Indonesian reader ask for the failed rows
    with translation.override("en"):
        english = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=result)
    with translation.override("id"):
        indonesian = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=result)
    # then the reason is kept as a code, and each reads it in their own language
    assert english[0].reasons == [
        {"code": "zip_code", "column": "Kode Pos", "field": "zip_code", "value": "4011A"}
    ]
    assert [(row.line, row.reason) for row in english] == [
        (3, "“Kode Pos”: “4011A” is not a postal code (expected five digits, e.g. 40115).")
    ]
    assert [(row.line, row.reason) for row in indonesian] == [
        (3, "“Kode Pos”: “4011A” bukan kode pos (gunakan lima angka, contohnya 40115).")
    ]


# --- Skipped duplicates -----------------------------------------------------------------------------------

DUPLICATES_FILE = (
    b"Nama,No HP,Email,Channel,Username\r\n"
    b"Ani lagi,0812-3456-7801,,,\r\n"
    b"Budi lagi,,budi@example.com,,\r\n"
    b"Citra lagi,,,Instagram,citra.ig\r\n"
    b"Dedi,081234567899,,,\r\n"
    b"Dedi kembar,081234567899,,,\r\n"
)


@pytest.fixture
def skipped(acme: Workspace, alice: User) -> tuple[CustomerImport, list[Customer]]:
    """Ani, Budi and Citra exist; the file repeats them (phone, email, channel username) and Dedi twice."""
    existing = [
        customer_create(workspace=acme, actor=alice, data={"full_name": "Ani", "phone": "081234567801"}),
        customer_create(workspace=acme, actor=alice, data={"full_name": "Budi", "email": "budi@example.com"}),
        customer_create(
            workspace=acme,
            actor=alice,
            data={"full_name": "Citra", "source": "instagram", "channel_username": "citra.ig"},
        ),
    ]
    assert ChannelIdentity.objects.for_workspace(acme).count() == 1
    customer_import = started(
        acme,
        alice,
        DUPLICATES_FILE,
        mapping={"0": "full_name", "1": "phone", "2": "email", "3": "source", "4": "channel_username"},
    )
    return imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk), existing


def test_skipped_duplicates_are_kept_with_the_customer_they_matched(acme, skipped) -> None:
    customer_import, (ani, budi, citra) = skipped
    dedi = Customer.objects.for_workspace(acme).get(full_name="Dedi")
    assert (customer_import.created_count, customer_import.skipped_count) == (1, 4)
    assert [
        (row.line, row.customer_id, row.matched_on, row.matched_value)
        for row in imports.customer_import_duplicates(workspace=acme, customer_import=customer_import)
    ] == [
        (2, ani.pk, "phone", "+6281234567801"),
        (3, budi.pk, "email", "budi@example.com"),
        (4, citra.pk, "identity", "instagram: citra.ig"),
        (6, dedi.pk, "phone", "+6281234567899"),  # matched a row before it in the same file
    ]


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_result_page_links_each_skipped_row_to_its_customer(
    member: str, acme, skipped, request, client_for
) -> None:
    # given an owner and an agent (members see customers, so they see whom a row matched)
    customer_import, (ani, _budi, _citra) = skipped
    text = (
        client_for(request.getfixturevalue(member))
        .get(f"{BASE}{customer_import.pk}/progress/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert f'<td>2</td>\n    <td><a href="/app/acme/customers/{ani.pk}/">Ani</a></td>' in text
    assert "Phone number: <span" in text


def test_duplicates_page_and_api(acme, skipped, client_for, alice, acme_key) -> None:
    customer_import, (ani, budi, citra) = skipped
    page = client_for(alice).get(f"{BASE}{customer_import.pk}/duplicates/")
    assert page.status_code == 200
    assert f'href="/app/acme/customers/{citra.pk}/"' in page.content.decode()
    response = Client().get(f"{API}/{customer_import.pk}/duplicates", **acme_key)
    assert response.status_code == 200
    assert [item["customer_id"] for item in response.json()["items"]][:3] == [ani.pk, budi.pk, citra.pk]


def test_outsider_sees_no_duplicates_or_failed_rows(
    acme, skipped, imported, charlie, client_for, globex_key
) -> None:
    customer_import, _existing = skipped
    client = client_for(charlie)
    for url in (
        f"{BASE}{customer_import.pk}/duplicates/",
        f"{BASE}{customer_import.pk}/progress/",
        f"{BASE}{imported.pk}/errors.csv",
    ):
        assert client.get(url).status_code == 404
    assert Client().get(f"{API}/{customer_import.pk}/duplicates", **globex_key).status_code == 404
    assert Client().get(f"{API}/{imported.pk}/failed-rows", **globex_key).status_code == 404
