"""Bulk actions through their services: the snapshot and its count, each action, chunks and checkpoint, one audit
row per job, undo, and the refusals (nothing changed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from relasi.core.audit import Actor
from relasi.core.models import AuditLog
from relasi.core.validation import StateConflict
from relasi.customers import property_services
from relasi.customers.bulk import selectors as bulk_selectors
from relasi.customers.bulk.models_bulk import BulkJob, BulkStatus
from relasi.customers.bulk.services import (
    bulk_job_confirm,
    bulk_job_prepare,
    bulk_job_resume,
    bulk_job_run,
    bulk_job_undo,
)
from relasi.customers.filters import customer_filters_parse
from relasi.customers.models import Channel, Customer

EARLIER = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def _filters(**params: str):
    return customer_filters_parse(params)


@pytest.fixture
def many(acme, make_customer) -> list[Customer]:
    """120 WhatsApp customers named "Budi n" and 5 Instagram ones named "Sari n", all last updated EARLIER."""
    budis = [
        make_customer(acme, f"Budi {number:03d}", source=Channel.WHATSAPP, status="Lead", updated_at=EARLIER)
        for number in range(120)
    ]
    for number in range(5):
        make_customer(acme, f"Sari {number}", source=Channel.INSTAGRAM, status="Lead", updated_at=EARLIER)
    return budis


@pytest.fixture
def chunk_fails(monkeypatch) -> Callable[[int, str], None]:
    """Make the bulk run's chunk number `chunk` raise once with `message`, as a worker dying there."""

    def arrange(chunk: int, message: str) -> None:
        from relasi.customers.bulk import services

        real_apply = services._apply
        calls = {"count": 0}

        def apply_or_die(**kwargs):
            calls["count"] += 1
            if calls["count"] == chunk:
                raise RuntimeError(message)
            return real_apply(**kwargs)

        monkeypatch.setattr(services, "_apply", apply_or_die)

    return arrange


def _live(acme):
    return Customer.objects.for_workspace(acme).filter(deleted_at__isnull=True)


def test_prepare_snapshots_exactly_the_matching_customers(acme, alice, many) -> None:
    # Given 120 WhatsApp customers among 125
    # When alice prepares a delete of every customer matching "source=whatsapp"
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    # Then the draft holds exactly those 120 ids, in id order, and nothing is deleted yet
    assert job.status == BulkStatus.DRAFT
    assert job.total == 120
    assert job.customer_ids == sorted(customer.pk for customer in many)
    assert job.selection == {"filters": {"source": ["whatsapp"]}}
    assert _live(acme).count() == 125


def test_confirmed_delete_acts_on_the_snapshot_not_on_customers_added_later(
    acme, alice, many, make_customer, django_capture_on_commit_callbacks
) -> None:
    # Given a delete of the 120 WhatsApp customers, prepared (counted)
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    # ...and a WhatsApp customer added between the count and the confirmation
    late = make_customer(acme, "Late Budi", source=Channel.WHATSAPP)
    # When alice confirms the count of 120
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, expected_total=120)
    # Then exactly the 120 counted are deleted, the late one is not, and "Last update" is unchanged
    job.refresh_from_db()
    assert (job.status, job.processed, job.changed_count) == (BulkStatus.COMPLETED, 120, 120)
    assert _live(acme).filter(source=Channel.WHATSAPP).values_list("pk", flat=True).get() == late.pk
    deleted = Customer.objects.for_workspace(acme).filter(deleted_at__isnull=False)
    assert deleted.count() == 120
    assert set(deleted.values_list("updated_at", flat=True)) == {EARLIER}


def test_the_job_is_audited_once_with_its_count(
    acme, alice, many, django_capture_on_commit_callbacks
) -> None:
    # Given a prepared delete of 120 customers
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    before = AuditLog.objects.filter(workspace=acme).count()
    # When it is confirmed and runs
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk)
    # Then one audit row names the job, its action and count
    rows = AuditLog.objects.filter(workspace=acme).order_by("id")[before:]
    assert [(row.action, row.target_type, row.target_id, row.changes) for row in rows] == [
        (
            "customer.bulk_deleted",
            "customers.bulkjob",
            str(job.pk),
            {"count": 120, "filters": {"source": ["whatsapp"]}},
        )
    ]
    assert rows[0].actor_id == alice.pk


def test_a_job_runs_in_chunks_and_continues_from_its_checkpoint(
    acme, alice, dave, many, monkeypatch, chunk_fails, django_capture_on_commit_callbacks
) -> None:
    # Given chunks of 50 and an owner assignment of 120 customers whose run dies after the second chunk
    monkeypatch.setattr(bulk_selectors, "BULK_CHUNK", 50)
    job = bulk_job_prepare(workspace=acme, actor=alice, action="owner", filters=_filters(source="whatsapp"))
    chunk_fails(3, "worker killed")
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value=str(dave.pk))
    job.refresh_from_db()
    # Then the first two chunks are kept, and the job says it failed there
    assert (job.status, job.processed, job.changed_count) == (BulkStatus.FAILED, 100, 100)
    assert _live(acme).filter(owner=dave).count() == 100
    # When it is queued again and runs (as the recovery would)
    BulkJob.objects.for_workspace(acme).filter(pk=job.pk).update(status=BulkStatus.QUEUED)
    bulk_job_run(workspace_id=acme.pk, job_id=job.pk)
    # Then it continues after the checkpoint: all 120 have dave, each changed once
    job.refresh_from_db()
    assert (job.status, job.processed, job.changed_count) == (BulkStatus.COMPLETED, 120, 120)
    assert _live(acme).filter(owner=dave).count() == 120
    assert _live(acme).filter(source=Channel.INSTAGRAM, owner__isnull=True).count() == 5


def test_assign_assignee_changes_only_those_without_it_and_moves_their_last_update(
    acme, alice, bob, many, django_capture_on_commit_callbacks
) -> None:
    # Given 10 of the 120 already assigned to bob
    Customer.objects.for_workspace(acme).filter(pk__in=[customer.pk for customer in many[:10]]).update(
        assignee=bob
    )
    job = bulk_job_prepare(
        workspace=acme, actor=alice, action="assignee", filters=_filters(source="whatsapp")
    )
    # When everyone matching is assigned to bob
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value=bob.pk)
    # Then 110 changed (their Last update moved), the 10 kept theirs
    job.refresh_from_db()
    assert (job.total, job.changed_count) == (120, 110)
    assert _live(acme).filter(assignee=bob).count() == 120
    assert _live(acme).filter(assignee=bob, updated_at=EARLIER).count() == 10


def test_set_status_is_checked_against_the_status_options(acme, alice, many) -> None:
    # Given a prepared status change of the 5 Instagram customers
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(source="instagram"))
    # When a status that is no option is sent, then it is refused and nothing changes
    with pytest.raises(ValidationError) as refused:
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="Champion")
    assert refused.value.message_dict == {
        "value": ["“Champion” is not one of the statuses: Lead, Prospect, Customer, Inactive."]
    }
    job.refresh_from_db()
    assert job.status == BulkStatus.DRAFT
    assert _live(acme).filter(status="Lead").count() == 125


def test_set_status_to_an_option(acme, alice, many, django_capture_on_commit_callbacks) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(source="instagram"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="Customer")
    assert _live(acme).filter(status="Customer").count() == 5
    assert _live(acme).filter(status="Lead").count() == 120


def test_set_a_number_property_in_the_users_style_and_clear_it(
    acme, alice, many, django_capture_on_commit_callbacks
) -> None:
    # Given a number property "budget"
    property_services.property_create(
        workspace=acme,
        actor=alice,
        label="Budget",
        key="budget",
        kind="number",
        options=[],
        is_required=False,
    )
    search = _filters(q="Sari")
    job = bulk_job_prepare(
        workspace=acme, actor=alice, action="property", filters=search, property_key="budget"
    )
    # When 1500000 is set for the 5 Saris
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="1500000")
    # Then each has it
    assert [c.properties for c in _live(acme).filter(full_name__startswith="Sari")] == [
        {"budget": 1500000}
    ] * 5
    # When an empty value is sent without the explicit clear
    job = bulk_job_prepare(
        workspace=acme, actor=alice, action="property", filters=search, property_key="budget"
    )
    with pytest.raises(ValidationError) as refused:
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="")
    # Then it is refused, the job stays a draft and every Sari keeps her budget
    assert refused.value.message_dict == {"value": ["Choose the Budget to give these customers."]}
    job.refresh_from_db()
    assert job.status == BulkStatus.DRAFT
    assert [c.properties for c in _live(acme).filter(full_name__startswith="Sari")] == [
        {"budget": 1500000}
    ] * 5
    # When it is cleared on purpose
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value=None, clear=True)
    # Then the key is gone again
    assert [c.properties for c in _live(acme).filter(full_name__startswith="Sari")] == [{}] * 5


@pytest.mark.parametrize(
    ("action", "value", "message"),
    [
        ("owner", None, "Choose the owner to give these customers."),
        ("assignee", "", "Choose the assignee to give these customers."),
        ("status", "   ", "Choose the status to give these customers."),
    ],
)
def test_an_edit_without_a_value_is_refused_and_changes_nothing(
    acme, alice, bob, many, action, value, message
) -> None:
    # Given the 5 Instagram customers, owned by and assigned to alice, "Lead"
    _live(acme).update(owner=alice, assignee=alice)
    job = bulk_job_prepare(workspace=acme, actor=alice, action=action, filters=_filters(source="instagram"))
    # When the job is confirmed with no value and without the explicit clear
    with pytest.raises(ValidationError) as refused:
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value=value)
    # Then it is refused with the action's words; the job stays a draft, nobody lost a value
    assert refused.value.message_dict == {"value": [message]}
    job.refresh_from_db()
    assert (job.status, job.value) == (BulkStatus.DRAFT, None)
    assert _live(acme).filter(owner=alice, assignee=alice, status="Lead").count() == 125
    assert not AuditLog.objects.filter(action__startswith="customer.bulk_").exists()


def test_a_value_and_a_clear_together_are_refused(acme, alice, many) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(source="instagram"))
    with pytest.raises(ValidationError) as refused:
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="Customer", clear=True)
    assert refused.value.message_dict == {"value": ["Choose a value or clear it, not both."]}
    job.refresh_from_db()
    assert job.status == BulkStatus.DRAFT
    assert _live(acme).filter(status="Lead").count() == 125


def test_clearing_the_status_on_purpose(acme, alice, many, django_capture_on_commit_callbacks) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(source="instagram"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, clear=True)
    job.refresh_from_db()
    assert (job.status, job.value, job.changed_count) == (BulkStatus.COMPLETED, "", 5)
    assert _live(acme).filter(status="").count() == 5
    assert _live(acme).filter(status="Lead").count() == 120


def test_a_property_value_of_the_wrong_type_is_refused(acme, alice, many) -> None:
    property_services.property_create(
        workspace=acme,
        actor=alice,
        label="Budget",
        key="budget",
        kind="number",
        options=[],
        is_required=False,
    )
    job = bulk_job_prepare(
        workspace=acme, actor=alice, action="property", filters=_filters(q="Sari"), property_key="budget"
    )
    with pytest.raises(ValidationError) as refused:
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="lots")
    assert list(refused.value.message_dict) == ["value"]
    assert all(customer.properties == {} for customer in _live(acme))


def test_an_unknown_property_is_refused_when_preparing(acme, alice, many) -> None:
    with pytest.raises(ValidationError) as refused:
        bulk_job_prepare(
            workspace=acme, actor=alice, action="property", filters=_filters(), property_key="nope"
        )
    assert refused.value.message_dict == {"property": ["Choose one of the custom properties."]}
    assert not BulkJob.objects.for_workspace(acme).exists()


def test_a_stale_count_is_a_conflict_and_changes_nothing(acme, alice, many) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    with pytest.raises(StateConflict):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, expected_total=119)
    job.refresh_from_db()
    assert job.status == BulkStatus.DRAFT
    assert _live(acme).count() == 125


def test_an_agent_may_not_delete_in_bulk(acme, bob, many) -> None:
    # Given bob, an agent, in a workspace that does not let agents act in bulk
    # When he prepares a delete of 120 customers, then it is refused, no job is kept and nothing is deleted
    with pytest.raises(PermissionDenied):
        bulk_job_prepare(workspace=acme, actor=bob, action="delete", filters=_filters(source="whatsapp"))
    assert not BulkJob.objects.for_workspace(acme).exists()
    assert _live(acme).count() == 125


def test_an_agent_may_delete_in_bulk_when_the_owner_allows_it(
    agents_may_bulk, bob, many, django_capture_on_commit_callbacks
) -> None:
    acme = agents_may_bulk
    job = bulk_job_prepare(workspace=acme, actor=bob, action="delete", filters=_filters(source="instagram"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=bob, job_id=job.pk)
    assert _live(acme).count() == 120


def test_an_agent_edits_in_bulk_as_he_edits_one_customer(
    acme, bob, many, django_capture_on_commit_callbacks
) -> None:
    # Editing a customer is open to every member; so is editing several.
    job = bulk_job_prepare(workspace=acme, actor=bob, action="status", filters=_filters(source="instagram"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=bob, job_id=job.pk, value="Prospect")
    assert _live(acme).filter(status="Prospect").count() == 5


def test_a_draft_is_its_makers_only(acme, alice, dave, many) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    with pytest.raises(Http404):
        bulk_job_confirm(workspace=acme, actor=dave, job_id=job.pk)
    with pytest.raises(Http404):
        bulk_selectors.bulk_job_get(workspace=acme, actor=Actor(user=dave), job_id=job.pk)
    assert _live(acme).count() == 125


def test_another_workspace_cannot_reach_the_job(acme, alice, globex, charlie, many) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    with pytest.raises(Http404):
        bulk_job_confirm(workspace=globex, actor=charlie, job_id=job.pk)
    with pytest.raises(Http404):
        bulk_selectors.bulk_job_get(workspace=globex, actor=Actor(user=charlie), job_id=job.pk)
    assert _live(acme).count() == 125


def test_ticked_ids_of_another_workspace_select_nothing(acme, alice, globex, charlie, many) -> None:
    with pytest.raises(ValidationError):
        bulk_job_prepare(
            workspace=globex, actor=charlie, action="delete", filters=_filters(), ids=[many[0].pk, many[1].pk]
        )
    assert _live(acme).count() == 125


def test_the_deleted_view_offers_restore_only(acme, alice, many) -> None:
    with pytest.raises(ValidationError) as refused:
        bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(deleted="1"))
    assert list(refused.value.message_dict) == ["action"]
    with pytest.raises(ValidationError):
        bulk_job_prepare(workspace=acme, actor=alice, action="restore", filters=_filters())


def test_undo_restores_the_jobs_customers_still_deleted(
    acme, alice, many, django_capture_on_commit_callbacks
) -> None:
    # Given a bulk delete of 120 customers, done
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="whatsapp"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk)
    # ...one of them restored on its own since
    Customer.objects.for_workspace(acme).filter(pk=many[0].pk).update(deleted_at=None)
    # When alice undoes the job
    with django_capture_on_commit_callbacks(execute=True):
        undo = bulk_job_undo(workspace=acme, actor=alice, job_id=job.pk)
    # Then the 119 still deleted come back, as a restore job of 119 audited once
    undo.refresh_from_db()
    assert (undo.action, undo.total, undo.changed_count, undo.status) == ("restore", 119, 119, "completed")
    assert _live(acme).count() == 125
    assert AuditLog.objects.filter(workspace=acme, action="customer.bulk_restored").count() == 1
    # ...and the delete job cannot be undone twice
    with pytest.raises(StateConflict):
        bulk_job_undo(workspace=acme, actor=alice, job_id=job.pk)


def test_only_a_finished_delete_can_be_undone(
    acme, alice, dave, many, django_capture_on_commit_callbacks
) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="owner", filters=_filters(source="instagram"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value=dave.pk)
    with pytest.raises(StateConflict):
        bulk_job_undo(workspace=acme, actor=alice, job_id=job.pk)
    assert _live(acme).filter(owner=dave).count() == 5


@pytest.mark.parametrize("status", [BulkStatus.FAILED, BulkStatus.RUNNING])
def test_a_delete_that_did_not_finish_cannot_be_undone(
    acme, alice, many, status, django_capture_on_commit_callbacks
) -> None:
    # given a delete of the five Instagram customers, then marked as stopped or still running
    job = bulk_job_prepare(workspace=acme, actor=alice, action="delete", filters=_filters(source="instagram"))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk)
    BulkJob.objects.for_workspace(acme).filter(pk=job.pk).update(status=status)
    # when undone, then it is refused and nobody comes back
    with pytest.raises(StateConflict):
        bulk_job_undo(workspace=acme, actor=alice, job_id=job.pk)
    assert _live(acme).filter(source=Channel.INSTAGRAM).count() == 0


def test_a_failed_job_is_continued_after_its_last_chunk(
    acme, alice, bob, dave, many, monkeypatch, chunk_fails, django_capture_on_commit_callbacks
) -> None:
    # Given a bulk status change of 120 customers in chunks of 50 that failed in its second chunk
    monkeypatch.setattr(bulk_selectors, "BULK_CHUNK", 50)
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(source="whatsapp"))
    chunk_fails(2, "database went away")
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        bulk_job_confirm(workspace=acme, actor=alice, job_id=job.pk, value="Customer")
    job.refresh_from_db()
    assert (job.status, job.processed, job.failure_reason) == (BulkStatus.FAILED, 50, "database went away")
    # When alice continues it
    with django_capture_on_commit_callbacks(execute=True):
        bulk_job_resume(workspace=acme, actor=alice, job_id=job.pk)
    # Then it finishes after the checkpoint, the 120 have the status, and it is still audited once
    job.refresh_from_db()
    assert (job.status, job.processed, job.changed_count) == (BulkStatus.COMPLETED, 120, 120)
    assert _live(acme).filter(status="Customer").count() == 120
    assert AuditLog.objects.filter(workspace=acme, action="customer.bulk_status_set").count() == 1
    # ...and a finished job cannot be continued
    with pytest.raises(StateConflict):
        bulk_job_resume(workspace=acme, actor=alice, job_id=job.pk)


def test_a_stalled_job_is_continued_and_a_running_one_is_not(
    acme, alice, many, settings, django_capture_on_commit_callbacks
) -> None:
    job = bulk_job_prepare(workspace=acme, actor=alice, action="status", filters=_filters(source="instagram"))
    BulkJob.objects.for_workspace(acme).filter(pk=job.pk).update(
        status=BulkStatus.RUNNING, value="Customer", progressed_at=datetime.now(UTC)
    )
    # A job with a recent sign of life is running: continuing it is refused
    with pytest.raises(StateConflict):
        bulk_job_resume(workspace=acme, actor=alice, job_id=job.pk)
    # Once quiet for longer than CUSTOMER_IMPORT_STALLED_SECONDS it is stalled, and continues
    settings.CUSTOMER_IMPORT_STALLED_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        resumed = bulk_job_resume(workspace=acme, actor=alice, job_id=job.pk)
    assert resumed.status == BulkStatus.QUEUED
    # and it ran to the end: the five Instagram customers have the status
    job.refresh_from_db()
    assert (job.status, job.processed, job.changed_count) == (BulkStatus.COMPLETED, 5, 5)
    assert (
        sorted(_live(acme).filter(source=Channel.INSTAGRAM).values_list("status", flat=True))
        == ["Customer"] * 5
    )
