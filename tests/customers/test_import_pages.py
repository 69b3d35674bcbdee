"""The import pages: upload → mapping → progress and result → error file; members only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relasi.accounts.models import User
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.models import Customer, CustomerImport, ImportStatus, PropertyDefinition
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

BASE = "/app/acme/customers/imports/"
FILE = b"Nama;No HP;Kota;Hobi\r\nAni;081234567801;Medan;Catur\r\nBad;12ab;;\r\nJoko;081234567803;Solo;\r\n"


@pytest.fixture(autouse=True)
def _small_batches(settings) -> None:
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 2


def uploaded(workspace: Workspace, actor: User, content: bytes = FILE) -> CustomerImport:
    return imports.customer_import_upload(
        workspace=workspace,
        actor=actor,
        file=SimpleUploadedFile("data.csv", content),
        original_name="data.csv",
    )


def after_one_row(workspace: Workspace, actor: User, status: str) -> CustomerImport:
    """An import started (not run) and set as having processed one row with `status`."""
    customer_import = uploaded(workspace, actor)
    imports.customer_import_start(
        workspace=workspace,
        actor=actor,
        import_id=customer_import.pk,
        mapping={"0": "full_name"},
        duplicate_mode="skip",
        enqueue=False,
    )
    CustomerImport.objects.for_workspace(workspace).filter(pk=customer_import.pk).update(
        status=status, processed_rows=1
    )
    return customer_import


def finished(workspace: Workspace, actor: User) -> CustomerImport:
    customer_import = uploaded(workspace, actor)
    imports.customer_import_start(
        workspace=workspace,
        actor=actor,
        import_id=customer_import.pk,
        mapping={"0": "full_name", "1": "phone", "2": "city"},
        duplicate_mode="skip",
        enqueue=False,
    )
    return imports.customer_import_run(
        workspace_id=customer_import.workspace_id, import_id=customer_import.pk
    )


@pytest.mark.parametrize("member", ["alice", "dave", "bob"])
def test_owner_and_agent_import_a_file_from_upload_to_error_file(
    member: str,
    agents_may_bulk,
    request,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks,
) -> None:
    # given a workspace whose owner lets agents import
    acme = agents_may_bulk
    user: User = request.getfixturevalue(member)
    client = client_for(user)
    is_manager = member in ("alice", "dave")  # only owners and admins may add a property on the way
    # the upload page states the limits
    page = client.get(BASE)
    assert page.status_code == 200
    assert "Up to 1,048,576 rows and 100 MB per file." in page.content.decode()
    # upload → mapping page
    response = client.post(BASE, {"file": SimpleUploadedFile("data.csv", FILE)})
    customer_import = CustomerImport.objects.for_workspace(acme).get()
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{customer_import.pk}/"
    mapping_page = client.get(response["Location"])
    html = mapping_page.content.decode()
    assert mapping_page.status_code == 200
    assert "<td>Ani</td><td>081234567801</td><td>Medan</td><td>Catur</td>" in html
    assert '<option value="full_name" selected>Full name</option>' in html
    assert '<option value="phone" selected>Phone number</option>' in html
    assert '<option value="city" selected>Regency/City</option>' in html
    assert ('<option value="new:Hobi">New property “Hobi”</option>' in html) is is_manager
    assert 'value="skip" checked' in html
    # start (the owner with the Hobi column as a new property), duplicates updated
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            response["Location"],
            {
                "column_0": "full_name",
                "column_1": "phone",
                "column_2": "city",
                "column_3": "new:Hobi" if is_manager else "",
                "duplicate_mode": "update",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{customer_import.pk}/progress/"
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.duplicate_mode) == ("completed", "update")
    assert (
        PropertyDefinition.objects.for_workspace(acme).filter(key="hobi", label="Hobi").exists() is is_manager
    )
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == ["Ani", "Joko"]
    # the result: honest counts and the error file
    progress = client.get(response["Location"])
    html = progress.content.decode()
    assert progress.status_code == 200
    assert '<div class="fs-4" data-testid="count-created">2</div>' in html
    assert '<div class="fs-4" data-testid="count-updated">0</div>' in html
    assert '<div class="fs-4" data-testid="count-skipped">0</div>' in html
    assert '<div class="fs-4 text-danger" data-testid="count-failed">1</div>' in html
    assert "3 of 3 rows" in html
    assert "hx-trigger" not in html
    download = client.get(f"{BASE}{customer_import.pk}/errors.csv")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="data-errors.csv"'
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(download.streaming_content).decode() == (
        "\ufeffNama;No HP;Kota;Hobi;row;error\r\nBad;12ab;;;3;“No HP”: “12ab” is not a phone number (expected e.g. 0812-3456-7890 or +62 812 3456 7890).\r\n"
    )


def test_a_large_upload_spooled_to_disk_is_read_the_same(acme, alice, client_for, settings) -> None:
    # Django writes uploads above this size to a temporary file instead of memory
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16
    response = client_for(alice).post(BASE, {"file": SimpleUploadedFile("data.csv", FILE)})
    assert response.status_code == 302
    customer_import = CustomerImport.objects.for_workspace(acme).get()
    assert (customer_import.headers, customer_import.total_rows) == (["Nama", "No HP", "Kota", "Hobi"], 3)
    assert imports.customer_import_preview(
        workspace=acme, actor=alice, customer_import=customer_import, rows=1
    ) == [["Ani", "081234567801", "Medan", "Catur"]]


def test_progress_polls_with_htmx_until_finished(acme, alice, client_for) -> None:
    customer_import = after_one_row(acme, alice, ImportStatus.RUNNING)
    client = client_for(alice)
    url = f"{BASE}{customer_import.pk}/progress/"
    page = client.get(url).content.decode()
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert 'aria-valuenow="33"' in page
    assert "1 of 3 rows" in page
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert html.startswith('<div id="import-progress"')
    assert "<html" not in html
    assert 'hx-trigger="every 1s"' in html
    imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in html
    assert 'data-status="completed"' in html
    assert "3 of 3 rows" in html


def test_upload_errors_are_shown_in_place_and_store_nothing(acme, alice, client_for, settings) -> None:
    client = client_for(alice)
    response = client.post(BASE, {"file": SimpleUploadedFile("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00")})
    assert response.status_code == 400
    assert (
        "This is not a CSV or XLSX file: CSV files must be UTF-8 text. Save it as CSV (UTF-8) or XLSX."
        in response.content.decode()
    )
    settings.CUSTOMER_IMPORT_MAX_BYTES = 10
    response = client.post(BASE, {"file": SimpleUploadedFile("data.csv", FILE)})
    assert response.status_code == 400
    assert "The file is 89 bytes; the limit is 10 bytes." in response.content.decode()
    assert client.post(BASE, {}).status_code == 400
    assert CustomerImport.objects.for_workspace(acme).count() == 0
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_mapping_errors_are_shown_in_place_and_change_nothing(acme, alice, client_for) -> None:
    customer_import = uploaded(acme, alice)
    properties = PropertyDefinition.objects.for_workspace(acme).count()
    response = client_for(alice).post(
        f"{BASE}{customer_import.pk}/",
        {
            "column_0": "",
            "column_1": "phone",
            "column_2": "phone",
            "column_3": "new:Hobi",
            "duplicate_mode": "skip",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Phone number is already imported from the column “No HP”." in html
    # the user's choices stay selected
    assert '<option value="new:Hobi" selected>' in html
    customer_import.refresh_from_db()
    assert customer_import.status == "uploaded"
    assert PropertyDefinition.objects.for_workspace(acme).count() == properties
    response = client_for(alice).post(
        f"{BASE}{customer_import.pk}/", {"column_1": "phone", "duplicate_mode": "skip"}
    )
    assert "Choose the column that holds the customer&#x27;s full name." in response.content.decode()


def test_an_agent_cannot_add_properties_through_an_import(agents_may_bulk, bob, client_for) -> None:
    # given an agent's upload (agents allowed to import; the Properties menu is still for owners and admins)
    acme = agents_may_bulk
    customer_import = uploaded(acme, bob)
    properties = PropertyDefinition.objects.for_workspace(acme).count()
    page = client_for(bob).get(f"{BASE}{customer_import.pk}/")
    assert 'value="new:' not in page.content.decode()
    # when the agent posts a mapping that makes a new property anyway
    response = client_for(bob).post(
        f"{BASE}{customer_import.pk}/",
        {"column_0": "full_name", "column_1": "phone", "column_3": "new:Hobi", "duplicate_mode": "skip"},
    )
    # then that column is refused in place and nothing changes
    assert response.status_code == 400
    assert (
        "Only owners and admins can add properties: import this column into an existing field, or ignore it."
        in response.content.decode()
    )
    customer_import.refresh_from_db()
    assert customer_import.status == "uploaded"
    assert PropertyDefinition.objects.for_workspace(acme).count() == properties


def test_an_agent_gets_403_on_every_import_write_and_nothing_changes(
    acme, alice, bob, client_for, settings
) -> None:
    # given the owner's upload, in a workspace where agents may not import (the default)
    pending = uploaded(acme, alice)
    audit_before = AuditLog.objects.count()
    files_before = sorted(Path(settings.MEDIA_ROOT).rglob("*"))
    agent = client_for(bob)
    # when the agent uploads, opens or posts the mapping, or asks to continue
    statuses = [
        agent.post(BASE, {"file": SimpleUploadedFile("data.csv", FILE)}).status_code,
        agent.get(f"{BASE}{pending.pk}/").status_code,
        agent.post(f"{BASE}{pending.pk}/", {"column_0": "full_name", "duplicate_mode": "skip"}).status_code,
        agent.post(f"{BASE}{pending.pk}/resume/").status_code,
    ]
    # then each is refused and nothing changed
    assert statuses == [403, 403, 403, 403]
    pending.refresh_from_db()
    assert pending.status == "uploaded"
    assert CustomerImport.objects.for_workspace(acme).count() == 1
    assert Customer.objects.for_workspace(acme).count() == 0
    assert AuditLog.objects.count() == audit_before
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*")) == files_before


def test_pages_follow_the_import_state(acme, alice, client_for) -> None:
    client = client_for(alice)
    customer_import = uploaded(acme, alice)
    assert client.get(f"{BASE}{customer_import.pk}/progress/")["Location"] == f"{BASE}{customer_import.pk}/"
    assert client.get(f"{BASE}{customer_import.pk}/errors.csv").status_code == 404
    done = finished(acme, alice)
    assert client.get(f"{BASE}{done.pk}/")["Location"] == f"{BASE}{done.pk}/progress/"
    assert "data.csv" in client.get(BASE).content.decode()


def test_error_file_is_404_when_every_row_was_good(acme, alice, client_for) -> None:
    customer_import = started(acme, alice, b"Nama\nAni\n", mapping={"0": "full_name"})
    imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    client = client_for(alice)
    assert client.get(f"{BASE}{customer_import.pk}/errors.csv").status_code == 404
    assert (
        'data-testid="error-file-link"'
        not in client.get(f"{BASE}{customer_import.pk}/progress/").content.decode()
    )


def test_outsider_gets_404_everywhere_and_changes_nothing(acme, alice, globex, charlie, client_for) -> None:
    pending = uploaded(acme, alice)
    done = finished(acme, alice)
    client = client_for(charlie)
    assert client.get(BASE).status_code == 404
    assert client.post(BASE, {"file": SimpleUploadedFile("data.csv", FILE)}).status_code == 404
    assert client.get(f"{BASE}{pending.pk}/").status_code == 404
    assert (
        client.post(f"{BASE}{pending.pk}/", {"column_0": "full_name", "duplicate_mode": "skip"}).status_code
        == 404
    )
    assert client.get(f"{BASE}{done.pk}/progress/").status_code == 404
    assert client.get(f"{BASE}{done.pk}/progress/", HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(f"{BASE}{done.pk}/errors.csv").status_code == 404
    pending.refresh_from_db()
    assert pending.status == "uploaded"
    assert CustomerImport.objects.for_workspace(acme).count() == 2
    assert CustomerImport.objects.for_workspace(globex).count() == 0
    # and an import of acme is not reachable through charlie's own workspace either
    assert client.get(f"/app/globex/customers/imports/{done.pk}/progress/").status_code == 404
    assert client.get(f"/app/globex/customers/imports/{done.pk}/errors.csv").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(acme) -> None:
    response = Client().get(BASE)
    assert response.status_code == 302
    assert "/accounts/" in response["Location"] or "login" in response["Location"]
    assert response["Location"] == f"/accounts/login/?next={BASE}"


def heading(html: str) -> str:
    """The text of the progress page's heading: `<h1 … data-testid="import-heading">text</h1>`."""
    start = html.index('data-testid="import-heading">') + len('data-testid="import-heading">')
    return html[start : html.index("</h1>", start)]


@pytest.mark.parametrize(
    ("member", "language", "running", "done"),
    [
        ("alice", "en", "Importing data.csv", "Imported data.csv"),
        (
            "bob",
            "en",
            "Importing data.csv",
            "Imported data.csv",
        ),  # agents see imports (they may not run them)
        ("alice", "id", "Mengimpor data.csv", "data.csv sudah diimpor"),
    ],
)
def test_the_polled_fragment_carries_the_heading_that_follows_the_status(
    member: str, language: str, running: str, done: str, acme, alice, request, client_for
) -> None:
    # given an import of alice's, running (one of three rows done), seen by a member of acme
    customer_import = after_one_row(acme, alice, ImportStatus.RUNNING)
    client = client_for(request.getfixturevalue(member))
    url = f"{BASE}{customer_import.pk}/progress/"
    # when the page opens, the heading is inside what the polling replaces
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert page.count('data-testid="import-heading"') == 1
    assert page.index('<div id="import-progress"') < page.index('data-testid="import-heading"')
    assert heading(page) == running
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert heading(fragment) == running
    # when the import ends, the next poll brings the finished heading, the one a reload shows
    imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert fragment.startswith(
        '<div id="import-progress" data-testid="import-progress" data-status="completed"'
    )
    assert "hx-trigger" not in fragment
    assert heading(fragment) == done
    reloaded = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert heading(reloaded) == done
    assert reloaded.count("<h1") == 1


def test_the_fragment_of_a_stopped_import_says_it_stopped(acme, alice, client_for) -> None:
    # given an import that failed after one row
    customer_import = after_one_row(acme, alice, ImportStatus.FAILED)
    # when the page polls
    fragment = client_for(alice).get(f"{BASE}{customer_import.pk}/progress/", HTTP_HX_REQUEST="true")
    # then its heading says so
    assert fragment.status_code == 200
    assert heading(fragment.content.decode()) == "Import of data.csv stopped"


def test_an_outsider_polling_an_import_gets_404_without_its_heading(acme, alice, charlie, client_for) -> None:
    # given acme's finished import
    done = finished(acme, alice)
    # when charlie (another workspace's owner) polls it
    response = client_for(charlie).get(f"{BASE}{done.pk}/progress/", HTTP_HX_REQUEST="true")
    # then nothing of it is shown
    assert response.status_code == 404
    assert "data.csv" not in response.content.decode()


def test_the_undo_in_progress_is_said_in_the_polled_section_not_in_a_message(
    acme, alice, bob, client_for, django_capture_on_commit_callbacks
) -> None:
    # given a finished import whose undo alice asked for, not yet run by a worker
    done = finished(acme, alice)
    url = f"{BASE}{done.pk}/progress/"
    imports.customer_import_undo(workspace=acme, actor=alice, import_id=done.pk, enqueue=False)
    busy = "The import is being undone. The counts below grow until it is done."
    # when alice or bob (an agent, who may look) polls the page, the section says it is under way, and polls on
    for user in (alice, bob):
        fragment = client_for(user).get(url, HTTP_HX_REQUEST="true").content.decode()
        assert f'<p class="mb-2" role="status" data-testid="undo-busy">{busy}</p>' in fragment
        assert 'hx-trigger="every 1s"' in fragment
    # when the undo has run, the next poll no longer says it
    imports.customer_import_undo_run(workspace_id=acme.pk, import_id=done.pk)
    fragment = client_for(alice).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-undo-status="completed"' in fragment
    assert busy not in fragment
    assert "hx-trigger" not in fragment


def test_undoing_from_the_page_leaves_no_message_over_the_finished_undo(
    acme, alice, client_for, django_capture_on_commit_callbacks
) -> None:
    # given the owner on a finished import's page
    done = finished(acme, alice)
    client = client_for(alice)
    # when she undoes it (the job runs after the commit) and opens the page it sends her back to
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{done.pk}/undo/")
    assert (response.status_code, response["Location"]) == (302, f"{BASE}{done.pk}/progress/")
    page = client.get(response["Location"])
    # then the page shows the undo done, with no "being undone" message above it
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-undo-status="completed"' in html
    assert "The import is being undone." not in html
    # and the message is not waiting for the next page either
    assert "The import is being undone." not in client.get(BASE).content.decode()


def test_an_agent_may_not_undo_and_nothing_changes(acme, alice, bob, client_for) -> None:
    # given a finished import, in a workspace where agents may not import (the default)
    done = finished(acme, alice)
    audit_before = AuditLog.objects.count()
    # when the agent asks to undo it
    response = client_for(bob).post(f"{BASE}{done.pk}/undo/")
    # then it is refused and nothing changed
    assert response.status_code == 403
    done.refresh_from_db()
    assert done.undo_status == ""
    assert Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True).count() == 2
    assert AuditLog.objects.count() == audit_before


@pytest.mark.parametrize("member", ["alice", "bob"])
def test_each_mapping_row_is_a_row_of_the_mapping_table(
    member: str, agents_may_bulk, request, client_for
) -> None:
    # given an upload of four columns by the owner or an agent allowed to import, opened by its uploader
    user = request.getfixturevalue(member)
    customer_import = uploaded(agents_may_bulk, user)
    client = client_for(user)
    # when the mapping page opens
    html = client.get(f"{BASE}{customer_import.pk}/").content.decode()
    # then each column is a row of the table the stylesheet turns into cards on a phone
    assert 'class="table mb-0 align-middle import-mapping" data-testid="import-mapping"' in html
    assert [html.count(f'data-testid="mapping-row-{index}"') for index in range(5)] == [1, 1, 1, 1, 0]
    assert (
        '<td class="import-mapping-column"><label class="fw-semibold" for="id_column_0">Nama</label></td>\n'
        '      <td class="small text-secondary import-mapping-samples">Ani, Bad, Joko</td>'
    ) in html
