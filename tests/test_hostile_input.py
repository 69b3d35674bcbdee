"""Hostile input: every bad value gets a fast 4xx naming what is allowed, and nothing is half-written.

One test per defect found by the security sweep, through the public path (HTTP, the form, the import service).
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.models import Customer, CustomerImport, PropertyDefinition
from relasi.customers.property_services import property_create
from tests.customers.importing import started

CUSTOMERS = "/api/v1/customers"
PROPERTIES = "/api/v1/customer-properties"


def send(method: str, url: str, body: Any, headers: dict[str, str], **extra: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(Client(), method)(url, data, content_type="application/json", **headers, **extra)


def problem_fields(response: Any) -> dict[str, list[str]]:
    assert response["Content-Type"] == "application/problem+json", response.content[:300]
    errors: dict[str, list[str]] = response.json().get("errors", {})
    return errors


@pytest.fixture
def typed_properties(acme, alice) -> dict[str, PropertyDefinition]:
    return {
        kind: property_create(workspace=acme, actor=alice, label=kind.title(), key=f"p_{kind}", kind=kind)
        for kind in ("number", "date", "datetime", "text")
    }


# --- 1. One request can hold a CPU for minutes -------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e400000", "1e1000000", "9" * 5000, "1e5000", "-1e16", "0.0000001"])
def test_a_huge_number_is_a_fast_422_naming_the_range(acme, acme_key, typed_properties, number) -> None:
    started_at = time.perf_counter()
    response = send("post", CUSTOMERS, {"full_name": "n", "properties": {"p_number": number}}, acme_key)
    assert time.perf_counter() - started_at < 1
    assert response.status_code == 422
    [message] = problem_fields(response)["properties.p_number"]
    assert message.endswith(
        "is out of range: use a number from -999,999,999,999,999 to 999,999,999,999,999 with at most 6 decimals "
        "and 15 digits in all."
    )
    assert not Customer.objects.for_workspace(acme).exists()


def test_a_huge_number_in_the_form_is_a_field_error(acme, alice, client_for, typed_properties) -> None:
    response = client_for(alice).post(
        reverse("customers:new", kwargs={"workspace_slug": "acme"}),
        {"full_name": "Budi", "prop__p_number": "1e400000"},
    )
    assert response.status_code == 400
    assert "is out of range" in response.content.decode()
    assert not Customer.objects.for_workspace(acme).exists()


# --- 4. 500 instead of 4xx ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Bu\u0000di"),
        ("job_title", "Ma\u0000nager"),
        ("city", "Ban\u0000dung"),
        ("channel_username", "bu\u0000di"),
    ],
)
def test_a_nul_in_a_text_field_is_a_422_naming_the_field(acme, acme_key, field, value) -> None:
    body = {"full_name": "Budi", "source": "instagram", field: value}
    response = send("post", CUSTOMERS, body, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {field: ["Remove the NUL character (\\0): it cannot be stored."]}
    assert not Customer.objects.for_workspace(acme).exists()


def test_a_nul_in_a_text_property_or_a_property_label_is_a_422(acme, acme_key, typed_properties) -> None:
    value = send("post", CUSTOMERS, {"full_name": "Budi", "properties": {"p_text": "a\u0000b"}}, acme_key)
    label = send("post", PROPERTIES, {"label": "Ti\u0000er", "key": "tier", "kind": "text"}, acme_key)
    options = send(
        "post",
        PROPERTIES,
        {"label": "Tier", "key": "tier", "kind": "select", "options": ["Go\u0000ld"]},
        acme_key,
    )
    assert [value.status_code, label.status_code, options.status_code] == [422, 422, 422]
    assert not PropertyDefinition.objects.for_workspace(acme).filter(key="tier").exists()


def test_a_lone_surrogate_in_json_is_a_422(acme, acme_key) -> None:
    response = send("post", CUSTOMERS, '{"full_name": "Bu\\ud800di"}', acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {
        "full_name": ["The text holds an invalid character (a broken Unicode sequence)."]
    }


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("date", "2026-02-30"),
        ("date", "2026-13-01"),
        ("date", "0000-01-01"),
        ("datetime", "2026-01-01T25:00"),
        ("datetime", "2026-01-01T10:00+99:00"),
    ],
)
def test_an_impossible_date_is_a_422(acme, acme_key, typed_properties, kind, value) -> None:
    response = send("post", CUSTOMERS, {"full_name": "n", "properties": {f"p_{kind}": value}}, acme_key)
    assert response.status_code == 422
    assert list(problem_fields(response)) == [f"properties.p_{kind}"]


def test_an_impossible_date_in_the_form_is_a_field_error(acme, alice, client_for, typed_properties) -> None:
    response = client_for(alice).post(
        reverse("customers:new", kwargs={"workspace_slug": "acme"}),
        {"full_name": "Budi", "prop__p_date": "2026-02-30"},
    )
    assert response.status_code == 400
    assert "“2026-02-30” is not a date (use YYYY-MM-DD)." in response.content.decode()


def test_a_username_longer_than_its_column_is_a_field_error(acme, alice, acme_key, client_for) -> None:
    api = send(
        "post", CUSTOMERS, {"full_name": "n", "source": "instagram", "channel_username": "u" * 201}, acme_key
    )
    assert problem_fields(api) == {"channel_username": ["At most 200 characters."]}
    page = client_for(alice).post(
        reverse("customers:new", kwargs={"workspace_slug": "acme"}),
        {"full_name": "Budi", "source": "instagram", "channel_username": "u" * 201},
    )
    assert page.status_code == 400
    assert not Customer.objects.for_workspace(acme).exists()


def test_a_status_option_longer_than_the_status_column_is_refused(acme, acme_key) -> None:
    status = PropertyDefinition.objects.for_workspace(acme).get(key="status")
    response = send("patch", f"{PROPERTIES}/{status.pk}", {"options": ["Lead", "x" * 61]}, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {"options": ["At most 60 characters."]}
    status.refresh_from_db()
    assert status.options == ["Lead", "Prospect", "Customer", "Inactive"]


@pytest.mark.parametrize(
    "body", [{"position": None}, {"is_visible": None}, {"is_required": None}, {"label": None}]
)
def test_null_for_a_property_field_is_a_422_not_false(acme, acme_key, typed_properties, body) -> None:
    definition = typed_properties["text"]
    before = (definition.label, definition.is_visible, definition.is_required, definition.position)
    response = send("patch", f"{PROPERTIES}/{definition.pk}", body, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {
        next(iter(body)): ["Send a value, or leave the field out to keep it."]
    }
    definition.refresh_from_db()
    assert (definition.label, definition.is_visible, definition.is_required, definition.position) == before


def test_a_json_array_body_is_a_422(acme, acme_key, typed_properties) -> None:
    response = send("patch", f"{PROPERTIES}/{typed_properties['text'].pk}", [None, None], acme_key)
    assert response.status_code == 422


def test_a_nul_in_the_search_or_a_cursor_is_a_400(acme, alice, acme_key, client_for) -> None:
    api = Client().get(CUSTOMERS, {"q": "bu\x00di"}, **acme_key)
    cursor = Client().get(CUSTOMERS, {"sort": "name", "cursor": "WyJhXHUwMDAwIiwxXQ"}, **acme_key)
    page = client_for(alice).get(
        reverse("customers:list", kwargs={"workspace_slug": "acme"}), {"q": "bu\x00di"}
    )
    export = client_for(alice).post(
        reverse("customers:export", kwargs={"workspace_slug": "acme"}), {"q": "x\x00"}
    )
    assert [api.status_code, cursor.status_code, page.status_code] == [400, 400, 400]
    assert problem_fields(api) == {"q": ["Remove the NUL character (\\0): it cannot be stored."]}
    assert export.status_code == 302
    assert not AuditLog.objects.filter(action="customer.exported").exists()


def test_odd_digits_in_an_import_mapping_are_a_422(acme, acme_key) -> None:
    response = Client().post(
        "/api/v1/customer-imports",
        {"file": SimpleUploadedFile("c.csv", b"Nama\nAni\n"), "mapping": json.dumps({"\u00b2": "full_name"})},
        **acme_key,
    )
    assert response.status_code == 422
    assert problem_fields(response) == {"mapping": ["There is no column \u00b2 in the file."]}
    assert not CustomerImport.objects.for_workspace(acme).exists()


def test_a_nul_in_a_new_property_name_of_an_import_is_a_422(acme, acme_key) -> None:
    response = Client().post(
        "/api/v1/customer-imports",
        {
            "file": SimpleUploadedFile("c.csv", b"Nama,Hobi\nAni,Catur\n"),
            "mapping": json.dumps({"0": "full_name", "1": "new:Ho\u0000bi"}),
        },
        **acme_key,
    )
    assert response.status_code == 422
    assert problem_fields(response) == {"mapping.1": ["Remove the NUL character (\\0): it cannot be stored."]}


def test_a_body_over_the_limit_and_a_multipart_without_boundary_are_problems(
    acme, acme_key, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = send("post", CUSTOMERS, {"full_name": "x" * 2000}, acme_key)
    no_boundary = Client().post(
        "/api/v1/customer-imports", b"--x\r\n", content_type="multipart/form-data", **acme_key
    )
    assert (big.status_code, big["Content-Type"]) == (413, "application/problem+json")
    assert (no_boundary.status_code, no_boundary["Content-Type"]) == (400, "application/problem+json")


def test_a_post_to_an_unknown_api_path_is_the_404_problem(acme_key) -> None:
    response = Client(enforce_csrf_checks=True).post("/api/v1/gift-vouchers", {}, **acme_key)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --- 5. One bad import row fails or half-writes the whole import ---------------------------------------------


def test_bad_rows_of_every_kind_are_failed_rows_and_the_others_are_imported(acme, alice, settings) -> None:
    # given a file with an impossible date, a huge number and a username over its column, in batches of 3
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 3
    property_create(workspace=acme, actor=alice, label="Lahir", key="lahir", kind="date")
    property_create(workspace=acme, actor=alice, label="Anggaran", key="anggaran", kind="number")
    rows = [
        "Nama,Lahir,Anggaran,Username,Channel",
        "Ani,2000-01-01,10,ani,instagram",
        "Budi,2026-02-30,10,budi,instagram",
        "Cici,2000-01-01,1e5000,cici,instagram",
        f"Dedi,2000-01-01,10,{'d' * 300},instagram",
        "Fajar,2000-01-01,10,fajar,instagram",
    ]
    customer_import = started(
        acme,
        alice,
        "\n".join(rows).encode(),
        mapping={"0": "full_name", "1": "lahir", "2": "anggaran", "3": "channel_username", "4": "source"},
    )
    # when it runs, then those rows fail and the others are imported
    result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (result.status, result.created_count, result.failed_count) == ("completed", 2, 3)
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == [
        "Ani",
        "Fajar",
    ]
    # then each failed row is named by its spreadsheet row, with the file's column, the value and the bound
    with translation.override("en"):
        failed = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=customer_import)
    assert [(row.line, row.reason) for row in failed] == [
        (
            3,
            "“Lahir”: “2026-02-30” is not a date (expected YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY).",
        ),
        (
            4,
            "“Anggaran”: “1e5000” is out of range: use a number from -999,999,999,999,999 to "
            "999,999,999,999,999 with at most 6 decimals and 15 digits in all.",
        ),
        (5, "“Username” has 300 characters; at most 200 fit in Username (channel)."),
    ]
    assert [[item["code"] for item in row.reasons] for row in failed] == [
        ["date"],
        ["number_range"],
        ["too_long"],
    ]
    # and a reason keeps no more of a long value than it may quote (the error file keeps the whole row)
    assert failed[2].reasons[0]["value"] == "d" * 79 + "…"


def test_a_nul_deep_in_a_file_is_one_failed_row(acme, alice) -> None:
    # given 4,000 good rows (past what the file's kind is told from), a row with a NUL, and one more good row
    good = [f"Pelanggan {number},0812{number:08d}" for number in range(4000)]
    content = "\n".join(["Nama,No HP", *good, "Eka\x00,081299999998", "Fajar,081299999999"]).encode()
    customer_import = started(acme, alice, content)
    # when it runs, then only that row fails, with a reason a person can act on
    result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (result.status, result.created_count, result.failed_count) == ("completed", 4001, 1)
    with translation.override("en"):
        failed = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=customer_import)
    assert [(row.line, row.reason) for row in failed] == [
        (4002, "“Nama” holds a NUL character (\\0), which cannot be stored: remove it.")
    ]
    # and what is kept of the row can be stored (PostgreSQL refuses NUL in JSON)
    assert failed[0].reasons[0]["value"] == "Eka\ufffd"


# --- 6. The import error file is not protected against spreadsheet formulas ------------------------------------


def test_the_error_file_neutralises_formulas(acme, alice) -> None:
    # given rows whose cells a spreadsheet would run as formulas, and a header that would too
    content = b"Nama,@No HP\n=HYPERLINK(\"http://x\"),abc\n+cmd|' /C calc'!A0,12ab\n"
    customer_import = started(acme, alice, content, mapping={"0": "full_name", "1": "phone"})
    result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (result.created_count, result.failed_count) == (0, 2)
    # when the error file is downloaded
    with (
        translation.override("en"),
        imports.customer_import_error_file_open(
            workspace=acme, actor=alice, customer_import=result
        ) as handle,
    ):
        text = handle.read().decode("utf-8-sig")
    # then every such cell starts with ' (kept as text), the header and the reasons quoting the values included
    expected = "is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890)."
    assert list(csv.reader(io.StringIO(text))) == [
        ["Nama", "'@No HP", "row", "error"],
        ['\'=HYPERLINK("http://x")', "abc", "2", f"“@No HP”: “abc” {expected}"],
        ["'+cmd|' /C calc'!A0", "12ab", "3", f"“@No HP”: “12ab” {expected}"],
    ]


# --- 9. The OpenAPI says what the server does not ---------------------------------------------------------------
# Schemathesis checks the whole description against a live server (`make test-api`); these name each finding.


def openapi_operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = Client().get("/api/v1/openapi.json").json()
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]


def test_every_error_is_documented_as_problem_details(db) -> None:
    for path, method, operation in openapi_operations():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)


def test_the_refusals_every_endpoint_shares_are_documented(db) -> None:
    # a body can be unreadable (400), too large (413) or invalid (422); query parameters can be invalid (400)
    for path, method, operation in openapi_operations():
        statuses = set(operation["responses"])
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= statuses, (method, path)
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            assert "400" in statuses, (method, path)


def test_business_rules_are_in_the_schema(db) -> None:
    schemas = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    full_name = schemas["CustomerIn"]["properties"]["full_name"]
    assert (full_name["maxLength"], schemas["CustomerIn"]["additionalProperties"]) == (200, False)
    assert schemas["CustomerIn"]["properties"]["zip_code"]["maxLength"] == 10
    assert schemas["PropertyIn"]["properties"]["kind"]["enum"][:2] == ["text", "long_text"]


def test_a_name_one_character_over_the_documented_limit_is_refused(acme, acme_key) -> None:
    response = send("post", CUSTOMERS, {"full_name": "x" * 200 + " "}, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {"full_name": ["At most 200 characters."]}
    assert Customer.objects.for_workspace(acme).count() == 0


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"to": ""}, {"to": ["Leave the parameter out, or give it a value."]}),
        ({"source": ""}, {"source": ["Leave the parameter out, or give it a value."]}),
        ({"limit": ""}, {"limit": ["Leave the parameter out, or give it a value."]}),
        ({"month": "0000-00"}, {"month": ["Use a month like 2026-03."]}),
    ],
)
def test_an_empty_or_impossible_filter_is_a_400(acme, acme_key, query, errors) -> None:
    response = Client().get(CUSTOMERS, query, **acme_key)
    assert response.status_code == 400
    assert problem_fields(response) == errors


def test_the_search_may_be_empty(acme, acme_key) -> None:
    assert Client().get(CUSTOMERS, {"q": ""}, **acme_key).status_code == 200


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"full_name": "Budi", "nickname": "Bud"}, {"nickname": ["Extra inputs are not permitted"]}),
        ({"full_name": "Budi", "owner_id": "1"}, {"owner_id": ["Input should be a valid integer"]}),
        ({"full_name": "Budi", "owner_id": True}, {"owner_id": ["Input should be a valid integer"]}),
        ({"full_name": 5}, {"full_name": ["Input should be a valid string"]}),
    ],
)
def test_an_unknown_field_or_a_value_of_another_type_is_a_422(acme, acme_key, body, errors) -> None:
    response = send("post", CUSTOMERS, body, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == errors
    assert Customer.objects.for_workspace(acme).count() == 0


def test_a_whole_number_written_with_a_fraction_is_a_number(acme, alice, acme_key) -> None:
    # JSON Schema's integer includes 2.0
    response = send("post", CUSTOMERS, {"full_name": "Budi", "owner_id": float(alice.pk)}, acme_key)
    assert response.status_code == 201
    assert response.json()["owner"]["id"] == alice.pk


@pytest.mark.parametrize("value", ["1", "yes", "on", ""])
def test_a_flag_is_true_or_false(acme, acme_key, value) -> None:
    response = Client().get(PROPERTIES, {"include_archived": value}, **acme_key)
    assert response.status_code == 400
    assert problem_fields(response) == {"include_archived": ["Use true or false."]}


@pytest.mark.parametrize("path", ["/customers/abc", "/customers/-1", "/customer-properties/1.5/archive"])
def test_an_id_that_is_not_a_number_is_the_404_problem(acme_key, path) -> None:
    response = Client().get(f"/api/v1{path}", **acme_key)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_body_that_is_not_json_is_a_400_problem(acme, acme_key) -> None:
    response = send("post", CUSTOMERS, b"\x00{", acme_key)
    assert response.status_code == 400
    assert response.json()["type"] == "https://relasi.dev/problems/malformed-request"
    assert Customer.objects.for_workspace(acme).count() == 0


def test_options_are_checked_whatever_the_type(acme, acme_key) -> None:
    body = {"label": "Web", "key": "web", "kind": "url", "options": ["x" * 101]}
    response = send("post", PROPERTIES, body, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {"options": ["At most 100 characters."]}
    assert not PropertyDefinition.objects.for_workspace(acme).filter(key="web").exists()


def test_an_unknown_field_of_the_import_form_is_a_422(acme, acme_key) -> None:
    upload = SimpleUploadedFile("pelanggan.csv", b"Nama\nBudi\n", content_type="text/csv")
    response = Client().post("/api/v1/customer-imports", {"file": upload, "duplicates": "update"}, **acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {"duplicates": ["Not a field of this form."]}
    assert CustomerImport.objects.for_workspace(acme).count() == 0


def test_a_nul_near_the_start_of_a_file_is_one_failed_row(acme, alice) -> None:
    # given a small CSV whose second customer row holds a NUL (within what the file's kind is told from)
    content = b"Nama,No HP\nAni,081200000001\nEka\x00,081299999998\nFajar,081299999999\n"
    customer_import = started(acme, alice, content)
    # when it runs, then that row fails with its reason and the others are imported
    result = imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)
    assert (result.status, result.created_count, result.failed_count) == ("completed", 2, 1)
    with translation.override("en"):
        failed = imports.customer_import_errors(workspace=acme, actor=alice, customer_import=customer_import)
    assert [(row.line, row.reason) for row in failed] == [
        (3, "“Nama” holds a NUL character (\\0), which cannot be stored: remove it.")
    ]
    assert failed[0].reasons[0]["value"] == "Eka\ufffd"


def test_a_file_of_many_nul_bytes_is_not_a_csv(acme, alice) -> None:
    # UTF-16 text: every other byte is a NUL
    upload = SimpleUploadedFile("pelanggan.csv", "Nama,No HP\nAni,0812\n".encode("utf-16-le"))
    with pytest.raises(ValidationError) as refused:
        imports.customer_import_upload(
            workspace=acme, actor=alice, file=upload, original_name="pelanggan.csv"
        )
    assert imports.refusal_code(refused.value) == imports.UNSUPPORTED
    assert CustomerImport.objects.for_workspace(acme).count() == 0


@pytest.mark.parametrize("number", ["9" * 5000, "1e400000", "-1e400000"])
def test_a_huge_json_number_is_a_422_naming_the_range(acme, acme_key, typed_properties, number) -> None:
    # written as a JSON number, not text: Python's parser would give infinity or refuse the digits
    body = '{"full_name": "Budi", "properties": {"p_number": ' + number + "}}"
    response = send("post", CUSTOMERS, body, acme_key)
    assert response.status_code == 422
    [message] = problem_fields(response)["__all__"]
    assert message.startswith(f"The number {number[:30]}")
    assert message.endswith(
        "is out of range: use a number from -999,999,999,999,999 to 999,999,999,999,999 with at most 6 decimals "
        "and 15 digits in all."
    )
    assert Customer.objects.for_workspace(acme).count() == 0


def test_an_import_without_its_file_names_the_file(acme, acme_key) -> None:
    response = send("post", "/api/v1/customer-imports", {"mapping": {}}, acme_key)
    assert response.status_code == 422
    assert problem_fields(response) == {"file": ["Field required"]}
