"""Continuing an import that stopped before the end: page button and API, for owner, agent and outsider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relasi.accounts.models import User
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.imports.rows import import_row_prepare
from relasi.customers.imports.writer import import_batch_write
from relasi.customers.models import Customer, CustomerImport, ImportStatus
from relasi.tenancy.models import Workspace
from tests.customers.importing import job_of, started

MAPPING = {"0": "full_name", "1": "phone"}
FILE = b"Nama,No HP\nA,081200000001\nB,081200000002\nC,081200000003\nD,081200000004\n"


@pytest.fixture(autouse=True)
def _small_batches(settings) -> None:
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 2


@pytest.fixture
def stopped_import(second_batch_dies) -> Callable[[Workspace, User], CustomerImport]:
    """An import whose second batch failed: two rows saved, status failed. Later runs write normally."""

    def build(workspace: Workspace, actor: User) -> CustomerImport:
        return _stop_after_first_batch(workspace, actor, second_batch_dies)

    return build


def _stop_after_first_batch(workspace: Workspace, actor: User, second_batch_dies: Any) -> CustomerImport:
    customer_import = started(workspace, actor, FILE, mapping=MAPPING)
    second_batch_dies("database went away")
    with pytest.raises(RuntimeError):
        imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.processed_rows) == (ImportStatus.FAILED, 2)
    return customer_import


def resume_url(customer_import: CustomerImport, slug: str = "acme") -> str:
    return reverse(
        "customers:import_resume", kwargs={"workspace_slug": slug, "import_id": customer_import.pk}
    )


def state(customer_import: CustomerImport) -> tuple[str, int, int]:
    customer_import.refresh_from_db()
    return customer_import.status, customer_import.processed_rows, customer_import.created_count


@pytest.mark.parametrize("member", ["alice", "dave", "bob"])
def test_a_member_continues_a_stopped_import_from_its_page(
    agents_may_bulk, member, request, client_for, stopped_import, django_capture_on_commit_callbacks
) -> None:
    # given a workspace whose owner lets agents import
    acme = agents_may_bulk
    user: User = request.getfixturevalue(member)
    customer_import = stopped_import(acme, user)
    client = client_for(user)
    progress = client.get(
        reverse(
            "customers:import_progress", kwargs={"workspace_slug": "acme", "import_id": customer_import.pk}
        )
    )
    assert 'data-testid="resume-import"' in progress.content.decode()
    # when the member presses "Continue the import"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resume_url(customer_import))
    # then the job runs again from its checkpoint: every row once
    assert response.status_code == 302
    assert state(customer_import) == (ImportStatus.COMPLETED, 4, 4)
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == [
        "A",
        "B",
        "C",
        "D",
    ]
    resumed = AuditLog.objects.get(action="customer_import.resumed")
    assert (resumed.actor_id, resumed.changes["processed_rows"]) == (user.pk, 2)
    assert resumed.changes["failure_reason"] == "RuntimeError: database went away"
    page = client.get(response["Location"])
    assert "The import continues after the rows it had already saved." in page.content.decode()


def test_a_completed_import_is_not_continued(acme, alice, client_for, stopped_import) -> None:
    customer_import = stopped_import(acme, alice)
    imports.customer_import_run(workspace_id=customer_import.workspace_id, import_id=customer_import.pk)
    audit_before = AuditLog.objects.count()
    response = client_for(alice).post(resume_url(customer_import), follow=True)
    assert "Only an import that stopped before the end can be continued." in response.content.decode()
    assert state(customer_import) == (ImportStatus.COMPLETED, 4, 4)
    assert AuditLog.objects.count() == audit_before


def test_an_outsider_cannot_continue_an_import(acme, alice, charlie, client_for, stopped_import) -> None:
    customer_import = stopped_import(acme, alice)
    audit_before = AuditLog.objects.count()
    assert client_for(charlie).post(resume_url(customer_import)).status_code == 404
    assert client_for(charlie).post(resume_url(customer_import, slug="globex")).status_code == 404
    assert state(customer_import) == (ImportStatus.FAILED, 2, 2)
    assert AuditLog.objects.count() == audit_before


def test_resume_needs_a_post(acme, alice, client_for, stopped_import) -> None:
    customer_import = stopped_import(acme, alice)
    assert client_for(alice).get(resume_url(customer_import)).status_code == 405
    assert state(customer_import) == (ImportStatus.FAILED, 2, 2)


def test_the_api_continues_a_stopped_import(
    acme, alice, acme_key, globex_key, stopped_import, django_capture_on_commit_callbacks
) -> None:
    customer_import = stopped_import(acme, alice)
    url = f"/api/v1/customer-imports/{customer_import.pk}/resume"
    # an outsider's key: 404, nothing changes
    outsider = Client().post(url, **globex_key)
    assert outsider.status_code == 404
    assert state(customer_import) == (ImportStatus.FAILED, 2, 2)
    # the workspace's key: accepted, and (run in-process here) complete
    with django_capture_on_commit_callbacks(execute=True):
        accepted = Client().post(url, **acme_key)
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "queued"
    assert state(customer_import) == (ImportStatus.COMPLETED, 4, 4)
    # a second call is a conflict with a problem document
    again = Client().post(url, **acme_key)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["detail"] == "Only an import that stopped before the end can be continued."


@pytest.mark.parametrize(("member", "status"), [("bob", 403), ("charlie", 404)])
def test_the_api_refuses_an_agent_and_an_outsider_and_nothing_changes(
    acme, globex, alice, member, status, request, client_for, stopped_import
) -> None:
    # given a stopped import, in a workspace where agents may not import (the default)
    customer_import = stopped_import(acme, alice)
    audit_before = AuditLog.objects.count()
    # when the agent, or charlie, signed in, asks the API to continue it
    response = client_for(request.getfixturevalue(member)).post(
        f"/api/v1/customer-imports/{customer_import.pk}/resume", HTTP_X_WORKSPACE="acme"
    )
    # then it is refused (charlie: acme does not exist for him) and nothing changed
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert state(customer_import) == (ImportStatus.FAILED, 2, 2)
    assert AuditLog.objects.count() == audit_before


def test_an_agent_cannot_continue_an_import_from_its_page(
    acme, alice, bob, client_for, stopped_import
) -> None:
    # given a stopped import, in a workspace where agents may not import (the default)
    customer_import = stopped_import(acme, alice)
    audit_before = AuditLog.objects.count()
    # when the agent posts "Continue the import", then it is refused and nothing changed
    assert client_for(bob).post(resume_url(customer_import)).status_code == 403
    assert state(customer_import) == (ImportStatus.FAILED, 2, 2)
    assert AuditLog.objects.count() == audit_before


def test_a_running_import_without_progress_for_ten_minutes_can_be_continued(
    acme, alice, client_for, django_capture_on_commit_callbacks, settings
) -> None:
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    # an installation whose operator set the threshold to ten minutes (the default is three)
    settings.CUSTOMER_IMPORT_STALLED_SECONDS = 600
    # given a worker that wrote the first batch, then died without a trace (status still "running")
    customer_import = started(acme, alice, FILE, mapping=MAPPING)
    job = job_of(customer_import)
    import_batch_write(
        job,
        [
            import_row_prepare(job, 1, ["A", "081200000001"]),
            import_row_prepare(job, 2, ["B", "081200000002"]),
        ],
    )
    CustomerImport.unscoped.filter(pk=customer_import.pk).update(status=ImportStatus.RUNNING)
    progress_url = reverse(
        "customers:import_progress", kwargs={"workspace_slug": "acme", "import_id": customer_import.pk}
    )
    client = client_for(alice)
    # when it has been quiet for 9 minutes: still taken as working
    with time_machine.travel(timezone.now() + timedelta(minutes=9)):
        assert 'data-testid="resume-import"' not in client.get(progress_url).content.decode()
        assert client.post(resume_url(customer_import)).status_code == 302
        assert state(customer_import) == (ImportStatus.RUNNING, 2, 2)
    # when it has been quiet for 10 minutes: the page says so and offers to continue
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        page = client.get(progress_url).content.decode()
        assert 'data-testid="import-stalled"' in page
        assert "This import has made no progress for 10 minutes" in page
        with django_capture_on_commit_callbacks(execute=True):
            client.post(resume_url(customer_import))
    assert state(customer_import) == (ImportStatus.COMPLETED, 4, 4)
    assert sorted(Customer.objects.for_workspace(acme).values_list("full_name", flat=True)) == [
        "A",
        "B",
        "C",
        "D",
    ]
    assert AuditLog.objects.get(action="customer_import.resumed").changes["status"] == ["running", "queued"]


def test_the_command_continues_a_stopped_import(acme, globex, alice, stopped_import) -> None:
    import io

    from django.core.management import CommandError, call_command

    customer_import = stopped_import(acme, alice)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_customers", "--workspace", "acme", "--resume", str(customer_import.pk), stdout=out, stderr=err
    )
    assert out.getvalue().splitlines() == [
        "Created 4, updated 0, skipped as duplicate 0, failed 0 (of 4 rows)."
    ]
    assert err.getvalue().splitlines()[0] == f"Continuing import {customer_import.pk} after row 2 of 4…"
    assert state(customer_import) == (ImportStatus.COMPLETED, 4, 4)
    # a finished import, an unknown one, or one of another workspace is refused
    with pytest.raises(CommandError, match="Only an import that stopped before the end can be continued"):
        call_command("import_customers", "--workspace", "acme", "--resume", str(customer_import.pk))
    with pytest.raises(CommandError, match=f"No import {customer_import.pk} in this workspace"):
        call_command("import_customers", "--workspace", "globex", "--resume", str(customer_import.pk))
    with pytest.raises(CommandError, match="not both"):
        call_command("import_customers", "x.csv", "--workspace", "acme", "--resume", str(customer_import.pk))
