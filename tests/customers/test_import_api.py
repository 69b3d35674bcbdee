"""The imports API (/api/v1/customer-imports) and the `import_customers` command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from relasi.core.models import AuditLog
from relasi.customers.models import Customer, CustomerImport, PropertyDefinition
from relasi.customers.services import customer_create

URL = "/api/v1/customer-imports"
FILE = b"Nama,No HP,Email\nAni,081234567801,ani@example.com\nBad,12ab,\nJoko,081234567803,\n"


@pytest.fixture(autouse=True)
def _small_batches(settings) -> None:
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 2


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def post(
    headers: dict[str, str],
    content: bytes = FILE,
    name: str = "data.csv",
    client: Client | None = None,
    **fields: str,
):
    return (client or Client()).post(URL, {"file": SimpleUploadedFile(name, content), **fields}, **headers)


ACME_SESSION = {"HTTP_X_WORKSPACE": "acme"}


@pytest.fixture
def caller(request, client_for) -> tuple[Client, dict[str, str]]:
    """Who calls, as a client and its headers: acme's API key ("key"), or a cast member signed in."""
    if request.param == "key":
        return Client(), request.getfixturevalue("acme_key")
    return client_for(request.getfixturevalue(request.param)), ACME_SESSION


def test_upload_with_the_suggested_mapping_runs_and_reports(
    acme, acme_key, django_capture_on_commit_callbacks
) -> None:
    # when a file is posted without a mapping
    with django_capture_on_commit_callbacks(execute=True):
        response = post(acme_key)
    # then it is accepted and, run in-process here, already complete
    assert response.status_code == 202
    body = response.json()
    import_id = body["id"]
    assert body["mapping"] == {"0": "full_name", "1": "phone", "2": "email"}
    # here the commit callbacks (the job) run after the response is built
    assert body["status"] == "queued"
    status = Client().get(f"{URL}/{import_id}", **acme_key)
    assert status.status_code == 200
    data = status.json()
    for key in ("created_at", "started_at", "finished_at"):
        assert data.pop(key)
    assert data["undo"].pop("available_until")
    assert data == {
        "id": import_id,
        "status": "completed",
        "original_name": "data.csv",
        "file_format": "csv",
        "headers": ["Nama", "No HP", "Email"],
        "mapping": {"0": "full_name", "1": "phone", "2": "email"},
        "duplicate_mode": "skip",
        "number_format": "plain",
        "total_rows": 3,
        "processed_rows": 3,
        "progress_percent": 100,
        "created_count": 2,
        "updated_count": 0,
        "skipped_count": 0,
        "failed_count": 1,
        "failure_reason": "",
        "error_file_url": f"{URL}/{import_id}/errors.csv",
        "failed_rows_url": f"{URL}/{import_id}/failed-rows",
        "duplicates_url": f"{URL}/{import_id}/duplicates",
        "undo": {
            "status": "",
            "total": 0,
            "processed": 0,
            "deleted_count": 0,
            "reverted_count": 0,
            "kept_count": 0,
            "already_deleted_count": 0,
            "failure_reason": "",
        },
    }
    errors = Client().get(f"{URL}/{import_id}/errors.csv", **acme_key)
    assert errors.status_code == 200
    assert errors["Content-Disposition"] == 'attachment; filename="data-errors.csv"'
    assert b"".join(errors.streaming_content).decode() == (
        "\ufeffNama,No HP,Email,row,error\r\n"
        "Bad,12ab,,3,“No HP”: “12ab” is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890).\r\n"
    )
    customers = Customer.objects.for_workspace(acme).order_by("pk")
    assert [(c.full_name, c.added_by_label) for c in customers] == [
        ("Ani", "API: CRM sync"),
        ("Joko", "API: CRM sync"),
    ]
    assert AuditLog.objects.filter(action="customer_import.uploaded").get().actor_label.startswith("api-key:")


# The key, the owner and the admin may add properties on the way.
@pytest.mark.parametrize("caller", ["key", "alice", "dave"], indirect=True)
def test_upload_with_a_mapping_and_update_mode(
    acme, alice, caller, django_capture_on_commit_callbacks
) -> None:
    client, headers = caller
    existing = customer_create(
        workspace=acme, actor=alice, data={"full_name": "Ani Lama", "phone": "+6281234567801"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            headers,
            client=client,
            mapping=json.dumps({"0": "full_name", "1": "phone", "2": "new:Surel Kantor"}),
            duplicate_mode="update",
        )
    assert response.status_code == 202
    assert response.json()["mapping"] == {"0": "full_name", "1": "phone", "2": "surel_kantor"}
    data = client.get(f"{URL}/{response.json()['id']}", **headers).json()
    assert (data["created_count"], data["updated_count"], data["failed_count"]) == (1, 1, 1)
    existing.refresh_from_db()
    assert (existing.full_name, existing.properties) == ("Ani", {"surel_kantor": "ani@example.com"})
    assert PropertyDefinition.objects.for_workspace(acme).get(key="surel_kantor").kind == "text"


def test_session_user_can_use_the_api(
    agents_may_bulk, bob, client_for, django_capture_on_commit_callbacks
) -> None:
    acme = agents_may_bulk
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"file": SimpleUploadedFile("d.csv", FILE)}, HTTP_X_WORKSPACE="acme")
    assert response.status_code == 202
    assert Customer.objects.for_workspace(acme).first().added_by_label == "Bob Agent"  # type: ignore[union-attr]


def test_an_agent_may_import_but_not_add_properties_over_the_api(
    agents_may_bulk, bob, client_for, settings
) -> None:
    # given a workspace whose owner lets agents import
    acme = agents_may_bulk
    properties = PropertyDefinition.objects.for_workspace(acme).count()
    audit_before = AuditLog.objects.count()
    # when the agent's upload maps a column to a new property
    response = post(
        ACME_SESSION,
        client=client_for(bob),
        mapping=json.dumps({"0": "full_name", "1": "phone", "2": "new:Surel Kantor"}),
    )
    # then that column is refused and nothing is stored
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "mapping.2": [
            "Only owners and admins can add properties: import this column into an existing field, or ignore it."
        ]
    }
    assert PropertyDefinition.objects.for_workspace(acme).count() == properties
    assert CustomerImport.objects.for_workspace(acme).count() == 0
    assert AuditLog.objects.count() == audit_before
    assert media_files(settings) == []


@pytest.mark.parametrize(
    ("reader", "read_status", "errors_status"),
    [("alice", 200, 200), ("dave", 200, 200), ("bob", 200, 403), ("charlie", 404, 404)],
)
def test_an_imports_status_is_for_members_and_its_failed_rows_for_the_importer_owners_and_admins(
    acme,
    globex,
    acme_key,
    reader,
    read_status,
    errors_status,
    request,
    client_for,
    django_capture_on_commit_callbacks,
) -> None:
    # given an import with a failed row, run by acme's API key
    with django_capture_on_commit_callbacks(execute=True):
        import_id = post(acme_key).json()["id"]
    client = client_for(request.getfixturevalue(reader))
    # when a signed-in person reads its status and its error file through the API
    read = client.get(f"{URL}/{import_id}", **ACME_SESSION)
    errors = client.get(f"{URL}/{import_id}/errors.csv", **ACME_SESSION)
    # then every member sees the counts; the failed rows are for owners and admins (and the key)
    assert (read.status_code, errors.status_code) == (read_status, errors_status)
    if read_status == 200:
        assert read.json()["failed_count"] == 1
    if errors_status == 200:
        assert b"".join(errors.streaming_content).decode() == (
            "\ufeffNama,No HP,Email,row,error\r\nBad,12ab,,3,“No HP”: “12ab” is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890).\r\n"
        )
    else:
        assert errors["Content-Type"] == "application/problem+json"


def test_an_outsiders_session_gets_404_and_nothing_is_stored(
    acme, globex, acme_key, charlie, client_for, settings, django_capture_on_commit_callbacks
) -> None:
    # given an import of acme
    with django_capture_on_commit_callbacks(execute=True):
        import_id = post(acme_key).json()["id"]
    audit_before = AuditLog.objects.count()
    files_before = media_files(settings)
    outsider = client_for(charlie)
    # when charlie, signed in, names acme in each call
    responses = [
        post(ACME_SESSION, client=outsider),
        outsider.get(f"{URL}/{import_id}", **ACME_SESSION),
        outsider.get(f"{URL}/{import_id}/errors.csv", **ACME_SESSION),
        outsider.post(f"{URL}/{import_id}/resume", **ACME_SESSION),
    ]
    # then acme does not exist for him, and nothing is stored in either workspace
    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    assert all(response["Content-Type"] == "application/problem+json" for response in responses)
    assert CustomerImport.objects.for_workspace(acme).count() == 1
    assert CustomerImport.objects.for_workspace(globex).count() == 0
    assert Customer.objects.for_workspace(acme).count() == 2
    assert AuditLog.objects.count() == audit_before
    assert media_files(settings) == files_before
    # nor through his own workspace
    assert outsider.get(f"{URL}/{import_id}", HTTP_X_WORKSPACE="globex").status_code == 404
    assert outsider.get(f"{URL}/{import_id}/errors.csv", HTTP_X_WORKSPACE="globex").status_code == 404


def test_outsider_key_gets_404_for_another_workspaces_import(
    acme, acme_key, globex_key, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        import_id = post(acme_key).json()["id"]
    for path in (f"{URL}/{import_id}", f"{URL}/{import_id}/errors.csv"):
        response = Client().get(path, **globex_key)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": "https://relasi.dev/problems/not-found",
            "title": "Not found.",
            "status": 404,
            "detail": "Not found.",
        }
    assert Client().get(f"{URL}/{import_id}").status_code == 401


def test_errors_csv_is_404_without_failed_rows(acme, acme_key, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        import_id = post(acme_key, b"Nama\nAni\n").json()["id"]
    assert Client().get(f"{URL}/{import_id}", **acme_key).json()["error_file_url"] is None
    assert Client().get(f"{URL}/{import_id}/errors.csv", **acme_key).status_code == 404


@pytest.mark.parametrize(
    ("content", "status", "slug", "title", "detail"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00",
            415,
            "unsupported-file-type",
            "The file is not a CSV or XLSX file.",
            "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX.",
        ),
        (
            FILE * 3,
            413,
            "import-too-large",
            "The file is over the import limits.",
            "The file is 237 bytes; the limit is 200 bytes. Split it into smaller files.",
        ),
        (
            b"Nama\n" + b"x\n" * 11,
            413,
            "import-too-large",
            "The file is over the import limits.",
            "The file has more than 10 rows; the limit is 10. Split it into smaller files.",
        ),
    ],
    ids=["not-csv", "too-big", "too-many-rows"],
)
def test_a_refused_file_is_a_problem_and_stores_nothing(
    acme, acme_key, settings, content: bytes, status: int, slug: str, title: str, detail: str
) -> None:
    settings.CUSTOMER_IMPORT_MAX_BYTES = 200
    settings.CUSTOMER_IMPORT_MAX_ROWS = 10
    response = post(acme_key, content)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": f"https://relasi.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": {"file": [detail]},
    }
    assert CustomerImport.objects.for_workspace(acme).count() == 0
    assert media_files(settings) == []


def test_a_bad_mapping_is_a_422_and_stores_nothing(acme, acme_key, settings) -> None:
    response = post(acme_key, mapping="not json")
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "mapping": [
            'A JSON object of column index → field key, e.g. {"0": "full_name"}, or → {"field": …, "part": …, '
            '"fallback": …, "rest": …}.'
        ]
    }
    response = post(acme_key, mapping=json.dumps({"1": "phone"}))
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "mapping": ["Choose the column that holds the customer's full name."]
    }
    # no column the importer recognises as the name: the suggestion cannot be used
    response = post(acme_key, b"Foo,Bar\n1,2\n")
    assert response.status_code == 422
    response = post(acme_key, duplicate_mode="merge")
    assert response.json()["errors"] == {
        "duplicate_mode": ["Choose whether duplicates are skipped or updated."]
    }
    assert CustomerImport.objects.for_workspace(acme).count() == 0
    assert media_files(settings) == []
    assert Client().post(URL, {}, **acme_key).status_code == 422


def test_imports_are_in_the_openapi_spec(db) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/customer-imports", "/api/v1/customer-imports/{import_id}"} <= set(paths)
    assert (
        "text/csv"
        in paths["/api/v1/customer-imports/{import_id}/errors.csv"]["get"]["responses"]["200"]["content"]
    )


# --- Command line ----------------------------------------------------------------------------------------


def test_command_imports_a_file_and_prints_the_counts(acme, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "pelanggan.csv"
    path.write_bytes(FILE)
    monkeypatch.chdir(tmp_path)  # the failed rows are written in the current folder
    out, err = io.StringIO(), io.StringIO()
    call_command("import_customers", str(path), "--workspace", "acme", stdout=out, stderr=err)
    customer_import = CustomerImport.objects.for_workspace(acme).get()
    assert out.getvalue().splitlines() == [
        "Created 2, updated 0, skipped as duplicate 0, failed 1 (of 3 rows).",
        f"Failed rows with the reason: {tmp_path / f'import-{customer_import.pk}-pelanggan-errors.csv'}",
    ]
    assert err.getvalue().splitlines() == [
        "  column 'Nama' → full_name",
        "  column 'No HP' → phone",
        "  column 'Email' → email",
        f"Importing 3 rows (import {customer_import.pk})…",
        "  2/3 rows (66%)",
        "  3/3 rows (100%)",
    ]
    assert sorted(Customer.objects.for_workspace(acme).values_list("added_by_label", flat=True)) == [
        "Relasi",
        "Relasi",
    ]
    # the same file again with duplicates updated: they would not change, so they are skipped
    out = io.StringIO()
    call_command(
        "import_customers", str(path), "--workspace", "acme", "--duplicates", "update", stdout=out, stderr=err
    )
    assert (
        out.getvalue().splitlines()[0]
        == "Created 0, updated 0, skipped as duplicate 2, failed 1 (of 3 rows)."
    )


def test_command_refuses_bad_input_with_a_nonzero_exit(acme, tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(CommandError, match="Refused: This is not a CSV or XLSX file"):
        call_command("import_customers", str(path), "--workspace", "acme", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        call_command("import_customers", str(path), "--workspace", "nope")
    with pytest.raises(CommandError, match="No file at"):
        call_command("import_customers", str(tmp_path / "missing.csv"), "--workspace", "acme")
    assert CustomerImport.objects.for_workspace(acme).count() == 0
