"""What the benchmarks share: options, timing, the bench users and workspaces, clean-up."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import ForeignObjectRel

from relasi.accounts.models import User
from relasi.core.audit import Actor
from relasi.core.models import AuditLog
from relasi.customers.models import ChannelIdentity, Customer, CustomerImport
from relasi.tenancy.models import Membership, Role, Workspace
from relasi.tenancy.services import workspace_create

Log = Callable[[str], None]

SEED = 20261123
DEEP_PAGES = 500
BENCH_ACTOR = Actor(system="bench")


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class BenchOptions:
    rows: int = 1_000_000
    iterations: int = 50
    warmups: int = 3
    skip_import: bool = False
    import_rows: int = 1_048_576
    # In-process import is for the smoke test, whose database a child process cannot see.
    import_in_process: bool = False
    deep_pages: int = DEEP_PAGES
    # Rows imported into the list workspace (a million customers); 0 skips that case.
    full_import_rows: int = 200_000

    def command(self) -> str:
        parts = [
            "relasi bench customers",
            f"--rows {self.rows}",
            f"--iterations {self.iterations}",
            f"--warmups {self.warmups}",
            f"--deep-pages {self.deep_pages}",
        ]
        if self.skip_import:
            parts.append("--skip-import")
        else:
            parts.append(f"--import-rows {self.import_rows}")
            parts.append(f"--full-import-rows {self.full_import_rows}")
        return " ".join(parts)


# --- Timing ----------------------------------------------------------------------------------------------


def summarize(samples_ms: list[float]) -> dict[str, float]:
    """p50, p95 (nearest rank) and max of a list of durations in milliseconds."""
    ordered = sorted(samples_ms)
    rank95 = max(0, math.ceil(0.95 * len(ordered)) - 1)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[rank95], 2),
        "max_ms": round(ordered[-1], 2),
        "n": len(ordered),
    }


def timed(call: Callable[[], object], *, iterations: int, warmups: int) -> dict[str, float]:
    for _ in range(warmups):
        call()
    samples: list[float] = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return summarize(samples)


# --- Users, workspaces, clean-up ------------------------------------------------------------------------


def bench_user(email: str, full_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        # No password: the benchmark signs in with force_login, nobody can sign in as it.
        user = User.objects.create_user(email, None, full_name=full_name)
    return user


def bench_workspace(*, slug: str, name: str, owner: User, agent: User | None = None) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        workspace = workspace_create(name=name, slug=slug, owner=owner, actor=None)
    members = Membership.objects.for_workspace(workspace)
    members.get_or_create(user=owner, defaults={"role": Role.OWNER})
    if agent is not None:
        members.get_or_create(user=agent, defaults={"role": Role.AGENT})
    return workspace


def purge_workspace_customers(*, workspace: Workspace, include_audit: bool) -> int:
    """Delete every customer, identity and import of a bench workspace; the number of customers deleted."""
    for record in CustomerImport.objects.for_workspace(workspace):
        for stored in (record.file, record.error_file):
            if stored:
                stored.delete(save=False)
    customers = Customer._meta.db_table
    imports = CustomerImport._meta.db_table
    # Plain SQL: the ORM would collect and cascade a million rows one by one.
    with transaction.atomic(), connection.cursor() as cursor:
        for dependent in customer_dependents():
            if dependent.has_workspace:
                cursor.execute(f"DELETE FROM {dependent.table} WHERE workspace_id = %s", [workspace.pk])
            else:
                cursor.execute(
                    f'DELETE FROM {dependent.table} WHERE "{dependent.column}" IN '
                    f"(SELECT id FROM {dependent.target} WHERE workspace_id = %s)",
                    [workspace.pk],
                )
        cursor.execute(f"DELETE FROM {customers} WHERE workspace_id = %s", [workspace.pk])
        deleted = cursor.rowcount
        cursor.execute(f"DELETE FROM {imports} WHERE workspace_id = %s", [workspace.pk])
        if include_audit:
            # Only for the scratch import workspace: a million audit rows per run would fill the disk.
            cursor.execute(f"DELETE FROM {AuditLog._meta.db_table} WHERE workspace_id = %s", [workspace.pk])
    return max(deleted, 0)


@dataclass(frozen=True)
class Dependent:
    """A table with a foreign key to customers or imports: its name, the key's column, the table it points at."""

    table: str
    column: str
    target: str
    has_workspace: bool


def customer_dependents() -> list[Dependent]:
    """Every foreign key to a customer or an import from another model (identities, import errors, updates,
    duplicates, and whatever comes next), found from the models, so that the clean-ups empty a new table too;
    a table that points at one of these in turn would still make the deferred foreign key fail loudly."""
    found: list[Dependent] = []
    for target in (Customer, CustomerImport):
        for field in target._meta.get_fields(include_hidden=True):
            related = getattr(field, "related_model", None)
            if not isinstance(field, ForeignObjectRel) or not (field.one_to_many or field.one_to_one):
                continue
            if related is None or related in (Customer, CustomerImport):
                continue
            columns = {getattr(concrete, "column", None) for concrete in related._meta.concrete_fields}
            found.append(
                Dependent(
                    table=related._meta.db_table,
                    column=str(field.field.column),
                    target=target._meta.db_table,
                    has_workspace="workspace_id" in columns,
                )
            )
    return sorted(found, key=lambda dependent: (dependent.table, dependent.column))


def analyze_customers(*, vacuum: bool) -> None:
    tables = [Customer._meta.db_table, ChannelIdentity._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            if vacuum and connection.vendor == "postgresql" and not connection.in_atomic_block:
                # VACUUM also sets the visibility map, which index-only scans (the capped count) rely on.
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            else:
                cursor.execute(f"ANALYZE {table}")
