"""Helpers for the import tests: a file uploaded and started (run by the test itself), and its job."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from relasi.accounts.models import User
from relasi.customers import imports
from relasi.customers.imports.job import ImportJob, import_job_build
from relasi.customers.models import CustomerImport
from relasi.tenancy.models import Workspace


def started(
    workspace: Workspace,
    actor: User,
    content: bytes,
    *,
    name: str = "customers.csv",
    mapping: dict[str, str] | None = None,
    mode: str = "skip",
) -> CustomerImport:
    """Upload and start an import without queuing it; the suggested mapping when none is given."""
    customer_import = imports.customer_import_upload(
        workspace=workspace, actor=actor, file=SimpleUploadedFile(name, content), original_name=name
    )
    imports.customer_import_start(
        workspace=workspace,
        actor=actor,
        import_id=customer_import.pk,
        mapping=mapping
        or imports.customer_import_suggest_mapping(workspace=workspace, headers=customer_import.headers),
        duplicate_mode=mode,
        enqueue=False,
    )
    return customer_import


def job_of(customer_import: CustomerImport) -> ImportJob:
    """The job a worker would build for this import, to write batches by hand."""
    return import_job_build(
        CustomerImport.objects.for_workspace(customer_import.workspace)
        .select_related("workspace", "created_by", "created_by_api_key")
        .get(pk=customer_import.pk)
    )
