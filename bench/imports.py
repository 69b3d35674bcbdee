"""The customer import benchmark: into an empty workspace, and into the list workspace of a million customers.

Each import runs in a child process (bench/import_child.py) so that its peak memory is its own.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from bench.common import (
    SEED,
    BenchError,
    BenchOptions,
    Log,
    analyze_customers,
    bench_workspace,
    customer_dependents,
    purge_workspace_customers,
    summarize,
)
from relasi.accounts.models import User
from relasi.core.models import AuditLog
from relasi.customers.models import Customer, CustomerImport
from relasi.customers.sample import sample_customers
from relasi.tenancy.models import Workspace

IMPORT_SLUG = "bench-import"


IMPORT_HEADERS = ["Nama", "No HP", "Email", "Kota", "Status"]


def _local_phone(e164: str, generator: random.Random) -> str:
    """The number the way people keep it in a spreadsheet: 0812…, +62 812-…, or 62812…."""
    if not e164:
        return ""
    national = e164[3:]
    roll = generator.random()
    if roll < 0.6:
        return "0" + national
    if roll < 0.8:
        return f"+62 {national[:3]}-{national[3:7]}-{national[7:]}"
    return "62" + national


def write_import_csv(
    path: Path, *, rows: int, seed: int, now: datetime, existing_phones: Sequence[str] = ()
) -> dict[str, int]:
    """A realistic customer file with about 5% bad rows and 2% repeated phones, plus, when `existing_phones`
    are given, 10% rows of people the workspace already has (their phone typed again, another name); the
    counts to expect."""
    generator = random.Random(seed)
    recent_phones: list[str] = []
    bad = duplicates = existing = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(IMPORT_HEADERS)
        for sample in sample_customers(count=rows, seed=seed, now=now):
            name, email = sample.full_name, sample.email
            phone = _local_phone(sample.phone, generator)
            roll = generator.random()
            if roll < 0.05:
                bad += 1
                fault = generator.randrange(3)
                if fault == 0:
                    name = ""
                elif fault == 1:
                    phone = generator.choice(["12345", "0812-abc", "08"])
                else:
                    email = generator.choice(["budi@", "siti.gmail.com", "@yahoo.co.id"])
            elif roll < 0.07 and recent_phones:
                # Someone already in the file, typed again with another name and no email.
                duplicates += 1
                phone, email = generator.choice(recent_phones), ""
            elif roll < 0.17 and existing_phones:
                # Someone the workspace already has, from another list.
                existing += 1
                phone, email = _local_phone(generator.choice(existing_phones), generator), ""
            elif sample.phone:
                recent_phones.append(phone)
                if len(recent_phones) > 1000:
                    recent_phones.pop(0)
            writer.writerow([name, phone, email, sample.city, sample.status])
    return {
        "rows": rows,
        "bad_rows": bad,
        "duplicate_rows": duplicates,
        "existing_customer_rows": existing,
        "bytes": path.stat().st_size,
    }


def import_file(*, path: Path, workspace_slug: str, actor_email: str) -> dict[str, Any]:
    """Upload, map and run one import the way the page does; timings and the honest counts."""
    # Imported here: the importer is optional for the list benchmark (--skip-import).
    from relasi.customers import imports

    workspace = Workspace.objects.get(slug=workspace_slug)
    actor = User.objects.get(email=actor_email)
    started = time.perf_counter()
    with path.open("rb") as handle:
        upload = imports.customer_import_upload(
            workspace=workspace, actor=actor, file=File(handle, name=path.name), original_name=path.name
        )
    uploaded = time.perf_counter()
    mapping = imports.customer_import_suggest_mapping(workspace=workspace, headers=list(upload.headers))
    # Run here rather than through the task queue, so that this process is the one measured.
    imports.customer_import_start(
        workspace=workspace,
        actor=actor,
        import_id=upload.pk,
        mapping=mapping,
        duplicate_mode="skip",
        enqueue=False,
    )
    batch_ends: list[float] = [time.perf_counter()]
    record = imports.customer_import_run(
        workspace_id=workspace.pk,
        import_id=upload.pk,
        on_progress=lambda _: batch_ends.append(time.perf_counter()),
    )
    finished = time.perf_counter()
    gaps_ms = [(later - earlier) * 1000 for earlier, later in itertools.pairwise(batch_ends)]
    return {
        "import_id": record.pk,
        "status": record.status,
        "failure_reason": record.failure_reason,
        "mapping": mapping,
        "total_rows": record.total_rows,
        "processed_rows": record.processed_rows,
        "created": record.created_count,
        "updated": record.updated_count,
        "skipped": record.skipped_count,
        "failed": record.failed_count,
        "upload_seconds": round(uploaded - started, 2),
        "run_seconds": round(finished - uploaded, 2),
        "seconds": round(finished - started, 2),
        # Steady progress: the time between two committed batches (the progress bar's steps).
        "batch_ms": summarize(gaps_ms) if gaps_ms else {},
    }


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _import_in_child(*, path: Path, workspace_slug: str, actor_email: str, log: Log) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.import_child",
        "--file",
        str(path),
        "--workspace",
        workspace_slug,
        "--actor",
        actor_email,
    ]
    output_path = path.with_suffix(".result.json")
    started = time.perf_counter()
    with output_path.open("w") as output:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=output)
        peak_kb = 0
        last_report = started
        while process.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(process.pid))
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                log(f"  importing... {last_report - started:.0f} s, peak RSS so far {peak_kb / 1024:.0f} MB")
            time.sleep(0.2)
    wall = time.perf_counter() - started
    text = output_path.read_text().strip()
    if process.returncode != 0 or not text:
        raise BenchError(f"The import child process failed (exit {process.returncode}): {text[-500:]}")
    result: dict[str, Any] = json.loads(text.splitlines()[-1])
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mb"] = round(max(peak_kb, children_kb, int(result.pop("self_peak_rss_kb", 0))) / 1024, 1)
    result["rss_scope"] = "import child process (VmHWM)"
    result["wall_seconds_with_startup"] = round(wall, 2)
    return result


def measure_import(*, options: BenchOptions, owner: User, log: Log) -> dict[str, Any]:
    workspace = bench_workspace(slug=IMPORT_SLUG, name="Benchmark import", owner=owner)
    if purge_workspace_customers(workspace=workspace, include_audit=True):
        analyze_customers(vacuum=True)
    with tempfile.TemporaryDirectory(prefix="relasi-bench-") as folder:
        path = Path(folder) / "pelanggan.csv"
        log(f"Writing a {options.import_rows:,}-row CSV...")
        expected = write_import_csv(path, rows=options.import_rows, seed=SEED + 1, now=timezone.now())
        log(f"  {expected['bytes'] / 1024 / 1024:.1f} MB; importing into '{IMPORT_SLUG}'...")
        if options.import_in_process:
            result = import_file(path=path, workspace_slug=IMPORT_SLUG, actor_email=owner.email)
            result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            result["rss_scope"] = "whole benchmark process (in-process import)"
        else:
            result = _import_in_child(path=path, workspace_slug=IMPORT_SLUG, actor_email=owner.email, log=log)
    rows = options.import_rows
    counted = int(result["created"]) + int(result["updated"]) + int(result["skipped"]) + int(result["failed"])
    result.update(
        rows=rows,
        rows_per_second=round(rows / max(float(result["seconds"]), 0.001)),
        expected=expected,
        counts_add_up=counted == rows,
    )
    log(
        f"  {result['status']}: {rows:,} rows in {result['seconds']} s = {result['rows_per_second']:,} rows/s, "
        f"peak RSS {result['peak_rss_mb']} MB"
    )
    log("Removing the imported customers...")
    purge_workspace_customers(workspace=workspace, include_audit=True)
    analyze_customers(vacuum=True)
    return result


# --- Into a workspace that already has a million customers -----------------------------------------------


def _existing_phones(workspace: Workspace, count: int) -> list[str]:
    """Phones of customers the workspace has, spread over it (every n-th by id, no random sort of a million)."""
    customers = Customer.objects.for_workspace(workspace).exclude(phone="")
    total = customers.count()
    step = max(1, total // max(count, 1))
    phones = customers.order_by("pk").values_list("phone", flat=True)
    return [phone for index, phone in enumerate(phones.iterator(chunk_size=10_000)) if index % step == 0][
        :count
    ]


def remove_import(*, workspace: Workspace, import_id: int, since: datetime) -> int:
    """Take one import's customers out of a workspace again, with their identities, failed rows and audit
    rows; the number of customers removed. Plain SQL, as the clean-up of a whole workspace."""
    customers = Customer._meta.db_table
    imports = CustomerImport._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # What points at the import (its failed rows, duplicates, updates), then at its customers
        # (identities, and duplicates of later rows of the same file), then the customers themselves.
        dependents = customer_dependents()
        for dependent in dependents:
            if dependent.target == imports:
                cursor.execute(f'DELETE FROM {dependent.table} WHERE "{dependent.column}" = %s', [import_id])
        for dependent in dependents:
            if dependent.target == customers:
                cursor.execute(
                    f'DELETE FROM {dependent.table} WHERE "{dependent.column}" IN '
                    f"(SELECT id FROM {customers} WHERE workspace_id = %s AND source_import_id = %s)",
                    [workspace.pk, import_id],
                )
        cursor.execute(
            f"DELETE FROM {customers} WHERE workspace_id = %s AND source_import_id = %s",
            [workspace.pk, import_id],
        )
        removed = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {AuditLog._meta.db_table} WHERE workspace_id = %s AND created_at >= %s",
            [workspace.pk, since],
        )
    record = CustomerImport.objects.for_workspace(workspace).get(pk=import_id)
    for stored in (record.file, record.error_file):
        if stored:
            stored.delete(save=False)
    CustomerImport.objects.for_workspace(workspace).filter(pk=import_id).delete()
    return max(removed, 0)


def measure_import_into_full(
    *, options: BenchOptions, workspace: Workspace, owner: User, log: Log
) -> dict[str, Any]:
    """The same import into the list workspace (a million customers), a tenth of its rows people it already
    has; then the imported customers are taken out again so the list data stays as generated."""
    rows = options.full_import_rows
    existing = _existing_phones(workspace, max(1, int(rows * 0.10)))
    started_at = timezone.now()
    with tempfile.TemporaryDirectory(prefix="relasi-bench-") as folder:
        path = Path(folder) / "pelanggan-lama.csv"
        log(f"Writing a {rows:,}-row CSV, a tenth of it customers '{workspace.slug}' already has...")
        expected = write_import_csv(
            path, rows=rows, seed=SEED + 2, now=timezone.now(), existing_phones=existing
        )
        log(
            f"  importing into '{workspace.slug}' ({Customer.objects.for_workspace(workspace).count():,} customers)..."
        )
        if options.import_in_process:
            result = import_file(path=path, workspace_slug=workspace.slug, actor_email=owner.email)
            result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            result["rss_scope"] = "whole benchmark process (in-process import)"
        else:
            result = _import_in_child(
                path=path, workspace_slug=workspace.slug, actor_email=owner.email, log=log
            )
    counted = int(result["created"]) + int(result["updated"]) + int(result["skipped"]) + int(result["failed"])
    planted = expected["duplicate_rows"] + expected["existing_customer_rows"]
    result.update(
        rows=rows,
        rows_per_second=round(rows / max(float(result["seconds"]), 0.001)),
        expected=expected,
        counts_add_up=counted == rows,
        # Generated phones may also meet one of the million by chance; those are skipped too.
        skipped_beyond_planted=int(result["skipped"]) - planted,
    )
    log(
        f"  {result['status']}: {rows:,} rows in {result['seconds']} s = {result['rows_per_second']:,} rows/s, "
        f"batch p95 {result['batch_ms'].get('p95_ms')} ms, max {result['batch_ms'].get('max_ms')} ms"
    )
    log("Taking the imported customers out of the list workspace again...")
    remove_import(workspace=workspace, import_id=int(result["import_id"]), since=started_at)
    analyze_customers(vacuum=True)
    return result
