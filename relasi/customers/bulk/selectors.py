"""Reads for bulk actions: which customers a selection holds, the jobs, what an undo would restore."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from relasi.core.audit import Actor, actor_of
from relasi.customers.bulk.models_bulk import BulkAction, BulkJob, BulkStatus
from relasi.customers.filters import MAX_PAGE_SIZE, CustomerFilters
from relasi.customers.models import Customer, PropertyDefinition
from relasi.customers.selectors import customer_queryset, restorable_since
from relasi.tenancy.models import Workspace

# The most customers one job acts on. The snapshot of ids is kept on the job row (about 8 MB at this size);
# more is a sign the filters are not the ones meant, and the page says to narrow them.
BULK_MAX_CUSTOMERS = 1_000_000
# Ticked rows come from one page of the list, which shows at most MAX_PAGE_SIZE.
BULK_MAX_TICKED = MAX_PAGE_SIZE
# Customers per transaction when a job runs: short locks, and a checkpoint after each.
BULK_CHUNK = 1000


def bulk_selection_ids(
    *, workspace: Workspace, filters: CustomerFilters, ids: list[int] | None = None
) -> list[int]:
    """The ids of the customers a selection holds, in id order, at most BULK_MAX_CUSTOMERS + 1 (one more says
    "too many"). `ids` (ticked rows) are kept only while they still belong to the list the filters describe:
    a ticked row deleted since, or no longer restorable in the Deleted view, is not selected."""
    rows = customer_queryset(workspace=workspace, filters=filters)
    if ids is not None:
        rows = rows.filter(pk__in=ids[:BULK_MAX_TICKED])
    return list(rows.order_by("pk").values_list("pk", flat=True)[: BULK_MAX_CUSTOMERS + 1])


def bulk_property_definition(*, workspace: Workspace, key: str) -> PropertyDefinition | None:
    """The custom property a bulk action may set: shown and not archived, as on the customer form."""
    return (
        PropertyDefinition.objects.for_workspace(workspace)
        .filter(key=key[:60], is_builtin=False, is_visible=True, archived_at__isnull=True)
        .first()
    )


def bulk_property_definitions(*, workspace: Workspace) -> list[PropertyDefinition]:
    return list(
        PropertyDefinition.objects.for_workspace(workspace)
        .filter(is_builtin=False, is_visible=True, archived_at__isnull=True)
        .order_by("position", "id")
    )


def bulk_job_get(*, workspace: Workspace, actor: Actor, job_id: int) -> BulkJob:
    """A job of the workspace. A draft (not yet confirmed) is its maker's only: to anyone else it is not found."""
    job = BulkJob.objects.for_workspace(workspace).defer("customer_ids").filter(pk=job_id).first()
    if job is None or (job.status == BulkStatus.DRAFT and not _made_by(job, actor)):
        raise Http404
    return job


def _made_by(job: BulkJob, actor: Actor) -> bool:
    who = actor_of(actor)
    if who.user is not None:
        return job.created_by_id == who.user.pk
    if who.api_key is not None:
        return job.created_by_api_key_id == who.api_key.pk
    return False


def bulk_job_made_by(*, job: BulkJob, actor: Actor) -> bool:
    return _made_by(job, actor)


def chunks(ids: list[int], size: int = BULK_CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def bulk_job_undoable(job: BulkJob) -> bool:
    """A finished delete job not undone yet; whether any of its customers can still come back is counted
    when the undo runs (the retention period may have passed for them)."""
    return (
        job.action == BulkAction.DELETE
        and job.status == BulkStatus.COMPLETED
        and job.undone_at is None
        and job.changed_count > 0
        and job.finished_at is not None
        and job.finished_at >= restorable_since()
    )


def bulk_job_restorable_ids(*, workspace: Workspace, job: BulkJob, customer_ids: Iterable[int]) -> list[int]:
    """The delete job's customers that are still deleted (since the job, not by someone before it) and can still
    be restored, in id order."""
    found: list[int] = []
    since = max(job.confirmed_at or job.created_at, restorable_since())
    for chunk in chunks(list(customer_ids)):
        found.extend(
            Customer.objects.for_workspace(workspace)
            .filter(pk__in=chunk, deleted_at__isnull=False, deleted_at__gte=since, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return found


def bulk_job_is_stalled(job: BulkJob, *, now: datetime | None = None) -> bool:
    """Queued or running without a sign of life for CUSTOMER_IMPORT_STALLED_SECONDS: its worker is gone."""
    if job.status not in (BulkStatus.QUEUED, BulkStatus.RUNNING):
        return False
    last_sign = job.progressed_at or job.created_at
    return ((now or timezone.now()) - last_sign).total_seconds() >= settings.CUSTOMER_IMPORT_STALLED_SECONDS


def bulk_job_resumable(job: BulkJob, *, now: datetime | None = None) -> bool:
    """Stopped before the end (failed, or stalled): continuing picks up after its last committed chunk."""
    return (job.status == BulkStatus.FAILED and job.processed < job.total) or bulk_job_is_stalled(
        job, now=now
    )
