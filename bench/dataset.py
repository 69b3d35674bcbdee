"""The list workspace of the customer benchmark: N generated customers, and the machine they run on.

`ensure_dataset` makes sure workspace "bench" holds exactly N live customers: reused when it does, so reruns
are cheap; generated with PostgreSQL COPY otherwise (without the secondary indexes from 200,000 rows up, see
bench/indexes.py), bulk_create on other databases.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.common import (
    BENCH_ACTOR,
    SEED,
    Log,
    analyze_customers,
    bench_user,
    bench_workspace,
    purge_workspace_customers,
)
from bench.indexes import MIN_ROWS as INDEX_REBUILD_MIN_ROWS
from bench.indexes import indexes_drop, indexes_restore
from relasi.accounts.models import User
from relasi.core.audit import audit_record
from relasi.customers.models import ChannelIdentity, Customer
from relasi.customers.sample import SampleCustomer, sample_customers
from relasi.tenancy.models import Workspace

LIST_SLUG = "bench"
OWNER_EMAIL = "bench-owner@relasi.test"
AGENT_EMAIL = "bench-agent@relasi.test"
COPY_CHUNK = 100_000
BULK_BATCH = 2_000


# --- Machine ---------------------------------------------------------------------------------------------


def _memory_gb() -> float:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "database": connection.vendor,
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgres"] = cursor.fetchone()[0]
            server: dict[str, str] = {}
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit"):
                cursor.execute(f"SHOW {name}")
                server[name] = cursor.fetchone()[0]
            info["postgres_settings"] = server
    elif connection.vendor == "sqlite":
        info["sqlite"] = sqlite3.sqlite_version
    return info


# --- Data ------------------------------------------------------------------------------------------------


CUSTOMER_COLUMNS = (
    "id",
    "workspace_id",
    "full_name",
    "owner_id",
    "assignee_id",
    "source",
    "phone",
    "phone_raw",
    "email",
    "status",
    "job_title",
    "province",
    "city",
    "district",
    "subdistrict",
    "zip_code",
    "properties",
    "added_by_id",
    "added_by_label",
    "created_at",
    "updated_at",
)


def _copy_customers(
    *, workspace: Workspace, members: list[int], label: str, rows: int, now: datetime, log: Log
) -> None:
    customer_table = Customer._meta.db_table
    identity_table = ChannelIdentity._meta.db_table
    samples = sample_customers(count=rows, seed=SEED, now=now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    # Not inside an outer transaction (the smoke test): SET LOCAL would outlive the chunk there.
    skip_foreign_key_checks = bool(row and row[0]) and not connection.in_atomic_block
    done = 0
    while done < rows:
        size = min(COPY_CHUNK, rows - done)
        # A transaction per chunk keeps the queue of deferred foreign-key checks small.
        with transaction.atomic(), connection.cursor() as cursor:
            if skip_foreign_key_checks:
                # As pg_restore --disable-triggers: the rows point at the workspace and members loaded
                # above, and checking four foreign keys per row would double the load time.
                cursor.execute("SET LOCAL session_replication_role = replica")
            # Ids up front so the identities can point at their customers without reading them back.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [customer_table, size],
            )
            ids = [row[0] for row in cursor.fetchall()]
            identities: list[tuple[Any, ...]] = []
            psycopg_cursor = cursor.cursor
            columns = ", ".join(CUSTOMER_COLUMNS)
            with psycopg_cursor.copy(f"COPY {customer_table} ({columns}) FROM STDIN") as copy:
                for offset, customer_id in enumerate(ids):
                    sample = next(samples)
                    copy.write_row(
                        (
                            customer_id,
                            workspace.pk,
                            sample.full_name,
                            members[0],
                            members[(done + offset) % len(members)],
                            sample.source,
                            sample.phone,
                            sample.phone,
                            sample.email,
                            sample.status,
                            sample.job_title,
                            sample.province,
                            sample.city,
                            sample.district,
                            sample.subdistrict,
                            sample.zip_code,
                            "{}",
                            members[0],
                            label,
                            sample.updated_at,
                            sample.updated_at,
                        )
                    )
                    if sample.username:
                        identities.append((workspace.pk, customer_id, sample.source, sample.username, now))
            with psycopg_cursor.copy(
                f"COPY {identity_table} (workspace_id, customer_id, channel, external_id, created_at) FROM STDIN"
            ) as copy:
                for identity in identities:
                    copy.write_row(identity)
        done += size
        log(f"  {done:,} / {rows:,} customers written")


def _customer_from_sample(
    sample: SampleCustomer, *, workspace: Workspace, owner_id: int, assignee_id: int, label: str
) -> Customer:
    return Customer(
        workspace=workspace,
        **sample.customer_fields(),
        owner_id=owner_id,
        assignee_id=assignee_id,
        added_by_id=owner_id,
        added_by_label=label,
    )


def _bulk_create_customers(
    *, workspace: Workspace, members: list[int], label: str, rows: int, now: datetime, log: Log
) -> None:
    batch: list[tuple[Customer, SampleCustomer]] = []

    def flush() -> None:
        with transaction.atomic():
            created = Customer.objects.for_workspace(workspace).bulk_create(
                [customer for customer, _sample in batch]
            )
            ChannelIdentity.objects.for_workspace(workspace).bulk_create(
                [
                    ChannelIdentity(
                        workspace=workspace,
                        customer=customer,
                        channel=sample.source,
                        external_id=sample.username,
                    )
                    for customer, (_unused, sample) in zip(created, batch, strict=True)
                    if sample.username
                ]
            )
        batch.clear()

    for index, sample in enumerate(sample_customers(count=rows, seed=SEED, now=now)):
        customer = _customer_from_sample(
            sample,
            workspace=workspace,
            owner_id=members[0],
            assignee_id=members[index % len(members)],
            label=label,
        )
        batch.append((customer, sample))
        if len(batch) >= BULK_BATCH:
            flush()
            log(f"  {index + 1:,} / {rows:,} customers written")
    if batch:
        flush()


@dataclass(frozen=True)
class Dataset:
    workspace: Workspace
    owner: User
    rows: int
    generation_seconds: float
    reused: bool


def ensure_dataset(*, rows: int, log: Log) -> Dataset:
    """Workspace "bench" with exactly `rows` live customers: reused if it has them, regenerated otherwise."""
    owner = bench_user(OWNER_EMAIL, "Bench Owner")
    agent = bench_user(AGENT_EMAIL, "Bench Agent")
    workspace = bench_workspace(slug=LIST_SLUG, name="Benchmark", owner=owner, agent=agent)
    # Outside a transaction only (the smoke test runs in one): index builds there would hold locks to its end.
    rebuild_indexes = connection.vendor == "postgresql" and not connection.in_atomic_block
    if rebuild_indexes and indexes_restore(log=log):
        log("  (indexes left dropped by an interrupted generation were built again)")
    customers = Customer.objects.for_workspace(workspace)
    live = customers.filter(deleted_at__isnull=True).count()
    if live == rows and customers.count() == rows:
        log(f"Reusing workspace '{LIST_SLUG}' with {rows:,} customers.")
        analyze_customers(vacuum=False)
        return Dataset(workspace=workspace, owner=owner, rows=rows, generation_seconds=0.0, reused=True)
    if live or customers.exists():
        log(f"Workspace '{LIST_SLUG}' has {live:,} customers, not {rows:,}: deleting them first.")
        purge_workspace_customers(workspace=workspace, include_audit=False)
    members = [owner.pk, agent.pk]
    label = owner.full_name
    method = "COPY" if connection.vendor == "postgresql" else "bulk_create"
    log(f"Generating {rows:,} customers in workspace '{LIST_SLUG}' with {method}...")
    started = time.perf_counter()
    generate = _copy_customers if connection.vendor == "postgresql" else _bulk_create_customers
    without_indexes = rebuild_indexes and rows >= INDEX_REBUILD_MIN_ROWS
    if without_indexes:
        indexes_drop(tables=[Customer._meta.db_table, ChannelIdentity._meta.db_table], log=log)
    generate(workspace=workspace, members=members, label=label, rows=rows, now=timezone.now(), log=log)
    if without_indexes:
        written = time.perf_counter()
        log(f"  written in {written - started:.1f} s; building the indexes...")
        indexes_restore(log=log)
        log(f"  indexes built in {time.perf_counter() - written:.1f} s")
    with transaction.atomic():
        audit_record(
            workspace=workspace,
            actor=BENCH_ACTOR,
            action="customer.bench_generated",
            target=workspace,
            changes={"rows": rows, "seed": SEED},
        )
    generated = time.perf_counter()
    log(f"  written in {generated - started:.1f} s; analyzing...")
    analyze_customers(vacuum=True)
    seconds = time.perf_counter() - started
    log(f"  ready in {seconds:.1f} s")
    return Dataset(
        workspace=workspace, owner=owner, rows=rows, generation_seconds=round(seconds, 1), reused=False
    )
