"""“Undo this import”: created customers deleted (restorable), updated ones put back, edited ones kept; as a
background job with its counts on the import's page; owners and admins only, within 30 days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import formats, timezone

from relasi.accounts.models import User
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.models import (
    ChannelIdentity,
    Customer,
    CustomerImport,
    CustomerImportUpdate,
    UndoStatus,
)
from relasi.customers.services import customer_create, customer_update, customers_delete, customers_restore
from relasi.tenancy.models import Workspace
from tests.customers.importing import started

BASE = "/app/acme/customers/imports/"
# Rows 2-3, 4-5 and 6 are three batches: Citra is created in the second and updated in the third, Ani is
# updated in the first and again in the third.
FILE = (
    b"Nama;No HP;Kota;Channel;Username\r\n"
    b"Ani Baru;081234567801;Jakarta;Instagram;ani.ig\r\n"
    b"Budi;081234567802;Surabaya;;\r\n"
    b"Citra;081234567803;Solo;;\r\n"
    b"Dedi;081234567804;Bogor;;\r\n"
    b"Citra;081234567803;Depok;;\r\n"
    b"Ani;081234567801;Bekasi;;\r\n"
)
MAPPING = {"0": "full_name", "1": "phone", "2": "city", "3": "source", "4": "channel_username"}


@pytest.fixture(autouse=True)
def _small_batches(settings) -> None:
    settings.CUSTOMER_IMPORT_BATCH_SIZE = 2


def state(workspace: Workspace) -> list[tuple[str, str, str, bool]]:
    return [
        (c.full_name, c.city, c.source, c.deleted_at is not None)
        for c in Customer.objects.for_workspace(workspace).order_by("pk")
    ]


@pytest.fixture
def imported(acme: Workspace, alice: User) -> CustomerImport:
    """Ani and Budi existed; the import updated them and created Citra and Dedi."""
    customer_create(
        workspace=acme, actor=alice, data={"full_name": "Ani", "phone": "081234567801", "city": "Medan"}
    )
    customer_create(
        workspace=acme, actor=alice, data={"full_name": "Budi", "phone": "081234567802", "city": "Bandung"}
    )
    customer_import = started(acme, alice, FILE, mapping=MAPPING, mode="update")
    return imports.customer_import_run(workspace_id=acme.pk, import_id=customer_import.pk)


def test_the_import_keeps_each_updated_customers_first_values(acme, imported) -> None:
    # given the import above (Ani updated in two batches)
    assert (imported.created_count, imported.updated_count) == (2, 4)
    updates = {
        update.customer.full_name: update
        for update in CustomerImportUpdate.objects.for_workspace(acme).select_related("customer")
    }
    # then Ani's values before the import are the ones from before its first row
    ani = Customer.objects.for_workspace(acme).get(full_name="Ani")
    before = {key: value for key, value in updates["Ani"].previous.items() if key != "updated_at"}
    assert before == {"full_name": "Ani", "city": "Medan", "source": ""}
    assert updates["Ani"].identities == [["instagram", "ani.ig"]]
    assert updates["Ani"].updated_at == ani.updated_at
    assert updates["Budi"].previous.keys() == {"city", "updated_at"}
    # and Citra, created by the import and updated by its last batch, has its update kept too
    assert updates["Citra"].previous["city"] == "Solo"


def test_owner_undoes_an_import_from_its_page(
    acme, alice, imported, client_for: Callable[[User], Client], django_capture_on_commit_callbacks
) -> None:
    # given Ani's "Last update" before the import, Budi edited and Dedi deleted since the import
    ani = Customer.objects.for_workspace(acme).get(full_name="Ani")
    ani_update = CustomerImportUpdate.objects.for_workspace(acme).get(customer=ani)
    ani_last_update = ani_update.previous["updated_at"]
    budi = Customer.objects.for_workspace(acme).get(full_name="Budi")
    customer_update(workspace=acme, actor=alice, customer_id=budi.pk, data={"city": "Malang"})
    dedi = Customer.objects.for_workspace(acme).get(full_name="Dedi")
    customers_delete(workspace=acme, actor=alice, customer_ids=[dedi.pk])
    client = client_for(alice)
    page = client.get(f"{BASE}{imported.pk}/progress/")
    assert 'data-testid="undo-import"' in page.content.decode()
    # when the owner undoes it (the job runs after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{imported.pk}/undo/")
    # then
    assert response.status_code == 302
    assert state(acme) == [
        ("Ani", "Medan", "", False),  # its values back
        ("Budi", "Malang", "", False),  # edited since the import: kept
        ("Citra", "Depok", "", True),  # created by the import: deleted
        ("Dedi", "Bogor", "", True),  # already deleted
    ]
    ani.refresh_from_db()
    assert ani.updated_at.isoformat() == ani_last_update
    assert not ChannelIdentity.objects.for_workspace(acme).filter(external_id="ani.ig").exists()
    imported.refresh_from_db()
    assert (
        imported.undo_status,
        imported.undo_total,
        imported.undo_processed,
        imported.undo_deleted_count,
        imported.undo_reverted_count,
        imported.undo_kept_count,
        imported.undo_gone_count,
    ) == (UndoStatus.COMPLETED, 4, 4, 1, 1, 1, 1)
    assert imported.undo_requested_by == alice
    undone = AuditLog.objects.get(action="customer_import.undone")
    assert (undone.actor_id, undone.target_id, undone.changes) == (
        alice.pk,
        str(imported.pk),
        {"deleted": 1, "reverted": 1, "kept_edited": 1, "already_deleted": 1},
    )
    # and the import's page shows what the undo did
    text = client.get(f"{BASE}{imported.pk}/progress/").content.decode()
    assert 'data-undo-status="completed"' in text
    assert "1 customer it created deleted (restorable from Deleted for 30 days)" in text
    assert "1 customer it updated has its previous values back" in text
    assert "1 customer was kept as it is: someone edited it after the import" in text
    assert "1 customer it created had already been deleted" in text
    assert 'data-testid="undo-import"' not in text


def test_customers_an_undo_deleted_can_be_restored(acme, alice, imported) -> None:
    # given an undone import
    imports.customer_import_undo(workspace=acme, actor=alice, import_id=imported.pk, enqueue=False)
    imports.customer_import_undo_run(workspace_id=acme.pk, import_id=imported.pk)
    citra = Customer.objects.for_workspace(acme).get(full_name="Citra")
    # when Citra is restored from the Deleted view
    assert customers_restore(workspace=acme, actor=alice, customer_ids=[citra.pk]) == 1
    # then she is back as the import left her
    citra.refresh_from_db()
    assert (citra.deleted_at, citra.city, citra.phone) == (None, "Depok", "+6281234567803")


def test_an_admin_may_undo_and_a_second_undo_is_refused(acme, dave, imported, client_for) -> None:
    client = client_for(dave)
    imports.customer_import_undo(workspace=acme, actor=dave, import_id=imported.pk, enqueue=False)
    imports.customer_import_undo_run(workspace_id=acme.pk, import_id=imported.pk)
    before = state(acme)
    response = client.post(f"{BASE}{imported.pk}/undo/", follow=True)
    assert response.status_code == 200
    assert "This import has already been undone." in response.content.decode()
    assert state(acme) == before
    assert AuditLog.objects.filter(action="customer_import.undone").count() == 1


@pytest.mark.parametrize(("member", "status"), [("bob", 403), ("charlie", 404)])
def test_agent_and_outsider_are_refused_and_nothing_changes(
    member: str, status: int, acme, globex, imported, request, client_for
) -> None:
    # given an agent of acme (agents may not import by default) and the owner of another workspace
    before = state(acme)
    response = client_for(request.getfixturevalue(member)).post(f"{BASE}{imported.pk}/undo/")
    assert response.status_code == status
    assert state(acme) == before
    imported.refresh_from_db()
    assert imported.undo_status == ""
    assert not AuditLog.objects.filter(action="customer_import.undone").exists()


def test_agent_sees_no_undo_button(acme, bob, imported, client_for) -> None:
    text = client_for(bob).get(f"{BASE}{imported.pk}/progress/").content.decode()
    assert 'data-testid="undo-import"' not in text


def test_undo_is_refused_thirty_days_after_the_import_finished(acme, alice, imported) -> None:
    # given an import that finished 30 days and a minute ago
    finished_at = timezone.now() - timedelta(days=30, minutes=1)
    CustomerImport.objects.for_workspace(acme).filter(pk=imported.pk).update(finished_at=finished_at)
    before = state(acme)
    # when the owner tries to undo it
    with pytest.raises(ValidationError) as refused:
        imports.customer_import_undo(workspace=acme, actor=alice, import_id=imported.pk, enqueue=False)
    # then (the date as the pages write dates)
    day = formats.date_format(timezone.localtime(finished_at), "DATE_FORMAT")
    assert refused.value.messages == [
        f"An import can be undone for 30 days after it finished; this one finished on {day}."
    ]
    assert state(acme) == before
    imported.refresh_from_db()
    assert imported.undo_status == ""


def test_undo_within_thirty_days_is_allowed(acme, alice, imported) -> None:
    CustomerImport.objects.for_workspace(acme).filter(pk=imported.pk).update(
        finished_at=timezone.now() - timedelta(days=29, hours=23)
    )
    undone = imports.customer_import_undo(workspace=acme, actor=alice, import_id=imported.pk, enqueue=False)
    assert undone.undo_status == UndoStatus.QUEUED


def test_an_undo_that_stopped_continues_where_it_was(acme, alice, imported, monkeypatch) -> None:
    # given an undo whose job dies after its first batch
    from relasi.customers.imports import undo

    real = undo._undo_updates
    monkeypatch.setattr(undo, "_undo_updates", lambda customer_import: 1 / 0)
    imports.customer_import_undo(workspace=acme, actor=alice, import_id=imported.pk, enqueue=False)
    with pytest.raises(ZeroDivisionError):
        imports.customer_import_undo_run(workspace_id=acme.pk, import_id=imported.pk)
    imported.refresh_from_db()
    assert (imported.undo_status, imported.undo_processed, imported.undo_deleted_count) == (
        UndoStatus.FAILED,
        2,
        2,
    )
    # when it is asked again
    monkeypatch.setattr(undo, "_undo_updates", real)
    imports.customer_import_undo(workspace=acme, actor=alice, import_id=imported.pk, enqueue=False)
    imports.customer_import_undo_run(workspace_id=acme.pk, import_id=imported.pk)
    # then it finishes without counting anything twice
    imported.refresh_from_db()
    assert (
        imported.undo_status,
        imported.undo_processed,
        imported.undo_deleted_count,
        imported.undo_reverted_count,
    ) == (UndoStatus.COMPLETED, 4, 2, 2)
    assert state(acme) == [
        ("Ani", "Medan", "", False),
        ("Budi", "Bandung", "", False),
        ("Citra", "Depok", "", True),
        ("Dedi", "Bogor", "", True),
    ]


def test_the_recovery_continues_an_undo_whose_worker_is_gone(
    acme, alice, imported, django_capture_on_commit_callbacks
) -> None:
    # given an undo queued four minutes ago that no worker took (its worker died)
    from relasi.customers.recovery import customer_jobs_recover

    imports.customer_import_undo(workspace=acme, actor=alice, import_id=imported.pk, enqueue=False)
    CustomerImport.unscoped.filter(pk=imported.pk).update(
        undo_progressed_at=timezone.now() - timedelta(minutes=4)
    )
    # when the scheduled recovery runs
    with django_capture_on_commit_callbacks(execute=True):
        recovered = customer_jobs_recover()
    # then the undo was queued again and finished, audited once
    assert recovered.undos == [imported.pk]
    imported.refresh_from_db()
    assert (imported.undo_status, imported.undo_deleted_count, imported.undo_reverted_count) == (
        UndoStatus.COMPLETED,
        2,
        2,
    )
    assert state(acme) == [
        ("Ani", "Medan", "", False),
        ("Budi", "Bandung", "", False),
        ("Citra", "Depok", "", True),
        ("Dedi", "Bogor", "", True),
    ]
    assert AuditLog.objects.filter(workspace=acme, action="customer_import.undone").count() == 1
    assert AuditLog.objects.filter(workspace=acme, action="customer_import.undo_requested").count() == 1
    # and a finished undo is not picked up again
    assert customer_jobs_recover().undos == []


API = "/api/v1/customer-imports"


def test_a_key_undoes_an_import_through_the_api(
    acme, acme_key, imported, django_capture_on_commit_callbacks
) -> None:
    # when the workspace's key asks for the undo (the job runs after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(f"{API}/{imported.pk}/undo", **acme_key)
    # then it is accepted, and the import's status reports what the undo did
    assert response.status_code == 202
    assert response.json()["undo"]["status"] == "queued"
    undo = Client().get(f"{API}/{imported.pk}", **acme_key).json()["undo"]
    # available for 30 days after the import finished (the API writes milliseconds)
    until = (imported.finished_at + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    assert undo.pop("available_until").startswith(until)
    assert undo == {
        "status": "completed",
        "total": 4,
        "processed": 4,
        "deleted_count": 2,
        "reverted_count": 2,
        "kept_count": 0,
        "already_deleted_count": 0,
        "failure_reason": "",
    }
    assert [row[3] for row in state(acme)] == [False, False, True, True]
    # and the request is audited as the key's, the finished undo once
    requested = AuditLog.objects.get(action="customer_import.undo_requested")
    assert (requested.target_id, requested.actor_label.startswith("api-key:"), requested.changes) == (
        str(imported.pk),
        True,
        {"status": ["", "queued"]},
    )
    # and a second undo is a conflict that changes nothing
    again = Client().post(f"{API}/{imported.pk}/undo", **acme_key)
    assert (again.status_code, again.json()["detail"]) == (409, "This import has already been undone.")
    assert AuditLog.objects.filter(action="customer_import.undone").count() == 1


@pytest.mark.parametrize(("member", "status"), [("bob", 403), ("charlie", 404)])
def test_agent_and_outsider_cannot_undo_through_the_api(
    member: str, status: int, acme, imported, request, client_for
) -> None:
    # given an agent of acme with a session, and the owner of another workspace
    before = state(acme)
    client = client_for(request.getfixturevalue(member))
    # when either asks for the undo
    response = client.post(f"{API}/{imported.pk}/undo", HTTP_X_WORKSPACE="acme")
    # then it is refused and nothing changed
    assert response.status_code == status
    assert state(acme) == before
    imported.refresh_from_db()
    assert imported.undo_status == ""


def test_another_workspaces_key_gets_404_for_the_undo(acme, globex_key, imported) -> None:
    before = state(acme)
    response = Client().post(f"{API}/{imported.pk}/undo", **globex_key)
    assert response.status_code == 404
    assert state(acme) == before
