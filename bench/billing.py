"""The billing benchmark (issue 11), on PostgreSQL: usage debits under the balance's row lock, from several
processes at once, against the same few workspaces.

1. Locked, the way Relasi does it: workers started with multiprocessing's "spawn" each debit
   (`balance_change`, a unique reference per debit, WhatsApp -586 or one unique visitor) and now and then top up
   (`balance_top_up`, one operation in `top_up_every`) balances of the same `workspaces` workspaces, chosen at
   random, so they contend on the same rows; each worker times each operation. Then the drift check of
   `relasi billing check` (`ledger_drifts`) runs over those workspaces: it must find nothing.
2. Naive, THE WRONG WAY, for comparison: the same workers and the same mix, each change reading the balance
   without a lock, adding in Python and writing the entry and the balance back in its own transaction, on
   workspaces of its own; the same check counts the balances it left wrong. Those workspaces are deleted at the
   end, so `relasi billing check` on the benchmark's database stays clean.

`run_billing_bench` returns the JSON-ready result; progress goes to `log`.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import django
from django.apps import apps

if not apps.ready:
    # A worker started with "spawn" imports this module to find its target before anything has set Django up:
    # it must be ready before the imports below load a model.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import BENCH_ACTOR, BenchError, Log, bench_user, bench_workspace, summarize
from bench.dataset import load_average, machine_info
from relasi.billing.checks import Drift, ledger_drifts
from relasi.billing.models import Balance, BalanceKind, EntryType, LedgerEntry
from relasi.billing.services import Change, balance_change, balance_top_up
from relasi.tenancy.models import Workspace

TARGETS = {"processes": 4, "debits_per_second": 1000, "debit_p99_ms": 20, "drift_balances": 0}
OWNER_EMAIL = "bench-billing@relasi.test"
LOCKED_SLUG = "bench-billing-{}"
NAIVE_SLUG = "bench-billing-naive-{}"
LOCKED, NAIVE = "locked", "naive"
KINDS = (BalanceKind.WHATSAPP, BalanceKind.MUV)
# A marketing message's price, and one unique visitor.
DEBIT: dict[str, int] = {BalanceKind.WHATSAPP: -586, BalanceKind.MUV: -1}
TOP_UP: dict[str, int] = {BalanceKind.WHATSAPP: 1_000_000, BalanceKind.MUV: 1_000}
# Each balance starts far above what a run debits, so none turns low: the low-balance notice (an audit row and
# an email, once per crossing) is not what is measured.
OPENING: dict[str, int] = {BalanceKind.WHATSAPP: 10**12, BalanceKind.MUV: 10**9}
STARTUP_SECONDS = 120


@dataclass(frozen=True)
class BillingOptions:
    processes: int = 4
    seconds: float = 20.0
    # None: as long as the locked part.
    naive_seconds: float | None = None
    workspaces: int = 3
    top_up_every: int = 50
    # Threads instead of processes: for the smoke test, and for a database only this process may open.
    in_process: bool = False

    @property
    def naive_duration(self) -> float:
        return self.seconds if self.naive_seconds is None else self.naive_seconds

    def command(self) -> str:
        parts = [
            "relasi bench billing",
            f"--processes {self.processes}",
            f"--seconds {self.seconds:g}",
            f"--naive-seconds {self.naive_duration:g}",
            f"--workspaces {self.workspaces}",
            f"--top-up-every {self.top_up_every}",
        ]
        if self.in_process:
            parts.append("--in-process")
        return " ".join(parts)


@dataclass(frozen=True)
class Plan:
    """What every worker of a part is told; picklable, since "spawn" sends it to the new processes."""

    mode: str
    workspace_ids: tuple[int, ...]
    seconds: float
    top_up_every: int
    run: str
    # The parent's database: under pytest it is the test database, which the settings of a new process do not
    # name.
    database_name: str


@dataclass
class WorkerResult:
    debits: int = 0
    top_ups: int = 0
    debit_ms: list[float] = field(default_factory=list)
    top_up_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    # CPU seconds of the loop: the worker's own, and its database backend's (None: the server is not on this
    # machine, so its /proc is not ours to read).
    cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None


class StartLine(Protocol):
    """A threading or a multiprocessing barrier: the workers start their clocks together."""

    def wait(self, timeout: float | None = None) -> int: ...

    def abort(self) -> None: ...


def run_billing_bench(options: BillingOptions, *, log: Log) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise BenchError(
            "The billing benchmark runs on PostgreSQL (set DATABASE_URL): SQLite lets one writer in at a time, "
            "so neither the lock nor its absence would show anything."
        )
    if options.processes < 1 or options.workspaces < 1 or options.top_up_every < 1:
        raise BenchError("--processes, --workspaces and --top-up-every are at least 1.")
    started = timezone.now()
    load_before = load_average()
    owner = bench_user(OWNER_EMAIL, "Benchmark billing")
    locked_ids = _fresh_workspaces(slug=LOCKED_SLUG, options=options, owner=owner, log=log)
    naive_ids = _fresh_workspaces(slug=NAIVE_SLUG, options=options, owner=owner, log=log)
    queries = _queries_per_operation(locked_ids[0])
    run = uuid.uuid4().hex[:8]
    with override_settings(DEBUG=False):
        locked = _part(LOCKED, locked_ids, seconds=options.seconds, run=run, options=options, log=log)
        naive = _part(NAIVE, naive_ids, seconds=options.naive_duration, run=run, options=options, log=log)
    log("Checking the ledgers (relasi billing check)...")
    drifts = ledger_drifts()
    locked.update(_drift_figures(drifts, locked_ids))
    naive.update(_drift_figures(drifts, naive_ids))
    locked["queries"] = queries
    log(f"  locked: {locked['drift_balances']} balances drift; naive: {naive['drift_balances']}")
    _delete_workspaces(slug=NAIVE_SLUG, log=log)
    result: dict[str, Any] = {
        "machine": machine_info(),
        "date": started.isoformat(timespec="seconds"),
        "command": options.command(),
        "load_average": {"before": load_before, "after": load_average()},
        "processes": options.processes,
        "workers": "threads" if options.in_process else "processes (spawn)",
        "seconds": options.seconds,
        "naive_seconds": options.naive_duration,
        "workspaces": options.workspaces,
        "balances": options.workspaces * len(KINDS),
        "top_up_every": options.top_up_every,
        "locked": locked,
        "naive": naive,
        "targets": TARGETS,
    }
    result["meets_targets"] = _verdict(result)
    return result


# --- Workspaces --------------------------------------------------------------------------------------------------


def _fresh_workspaces(*, slug: str, options: BillingOptions, owner: Any, log: Log) -> list[int]:
    """The part's workspaces made afresh (an earlier run's are deleted), each balance opened by a top-up."""
    _delete_workspaces(slug=slug, log=log)
    ids = []
    for number in range(1, options.workspaces + 1):
        workspace = bench_workspace(
            slug=slug.format(number), name=f"Benchmark billing {slug.format(number)}", owner=owner
        )
        for kind in KINDS:
            balance_top_up(
                workspace=workspace,
                actor=BENCH_ACTOR,
                kind=kind,
                amount=OPENING[kind],
                reference="bench:opening",
            )
        ids.append(workspace.pk)
    return ids


def _delete_workspaces(*, slug: str, log: Log) -> None:
    # Every workspace of the part, however many an earlier run made.
    stale = Workspace.objects.filter(slug__regex="^" + slug.format(r"\d+") + "$")
    for workspace in stale:
        log(f"Deleting the workspace '{workspace.slug}' (an earlier run's, or the naive part's)...")
        # Its ledger goes with it: the only way ledger entries are ever deleted.
        workspace.delete()


def _queries_per_operation(workspace_id: int) -> dict[str, int]:
    """The statements of one debit and of one top-up: each is a round trip to the server."""
    workspace = Workspace.objects.get(pk=workspace_id)
    counts = {}
    with CaptureQueriesContext(connection) as debit:
        _locked_debit(workspace, BalanceKind.WHATSAPP, "bench:probe-debit")
    counts["debit"] = len(debit.captured_queries)
    with CaptureQueriesContext(connection) as top_up:
        _locked_top_up(workspace, BalanceKind.WHATSAPP, "bench:probe-top-up")
    counts["top_up"] = len(top_up.captured_queries)
    return counts


# --- The two ways ------------------------------------------------------------------------------------------------


def _locked_debit(workspace: Workspace, kind: str, reference: str) -> None:
    entries = balance_change(
        workspace=workspace,
        actor=BENCH_ACTOR,
        kind=kind,
        changes=[Change(entry_type=EntryType.USAGE, amount=DEBIT[kind])],
        reference=reference,
    )
    if not entries:
        raise BenchError(f"The debit {reference} wrote nothing: its reference was applied before.")


def _locked_top_up(workspace: Workspace, kind: str, reference: str) -> None:
    balance_top_up(
        workspace=workspace, actor=BENCH_ACTOR, kind=kind, amount=TOP_UP[kind], reference=reference
    )


def _naive_change_the_wrong_way(
    workspace: Workspace, kind: str, entry_type: str, amount: int, reference: str
) -> None:
    """THE WRONG WAY, kept here only to show what it does: the balance read WITHOUT a lock, the sum made in Python
    and written back. Two workers that read the same amount both write an entry with the same balance-after, and
    the second UPDATE overwrites the first: one change is in the ledger but lost from the balance."""
    with transaction.atomic():
        balances = Balance.objects.for_workspace(workspace).filter(kind=kind)
        current = balances.values_list("amount", flat=True).get()
        after = current + amount
        LedgerEntry.objects.for_workspace(workspace).create(
            workspace=workspace,
            kind=kind,
            entry_type=entry_type,
            amount=amount,
            balance_after=after,
            reference=reference,
            actor_label="bench (naive)",
        )
        balances.update(amount=after, updated_at=timezone.now())


def _naive_debit(workspace: Workspace, kind: str, reference: str) -> None:
    _naive_change_the_wrong_way(workspace, kind, EntryType.USAGE, DEBIT[kind], reference)


def _naive_top_up(workspace: Workspace, kind: str, reference: str) -> None:
    _naive_change_the_wrong_way(workspace, kind, EntryType.TOP_UP, TOP_UP[kind], reference)


Operation = Callable[[Workspace, str, str], None]
OPERATIONS: dict[str, tuple[Operation, Operation]] = {
    LOCKED: (_locked_debit, _locked_top_up),
    NAIVE: (_naive_debit, _naive_top_up),
}


# --- Workers -----------------------------------------------------------------------------------------------------


def _work(plan: Plan, number: int, start: StartLine) -> WorkerResult:
    """One worker's loop: connected before the start line, then operations until its time is up."""
    debit, top_up = OPERATIONS[plan.mode]
    workspaces = list(Workspace.objects.filter(pk__in=plan.workspace_ids).order_by("pk"))
    choose = random.Random(f"{plan.run}:{plan.mode}:{number}")
    result = WorkerResult()
    backend = _backend_pid()
    start.wait(timeout=STARTUP_SECONDS)
    server_before, cpu_before = _process_cpu_seconds(backend), time.thread_time()
    result.started = time.monotonic()
    deadline = result.started + plan.seconds
    count = 0
    while time.monotonic() < deadline:
        count += 1
        workspace, kind = choose.choice(workspaces), choose.choice(KINDS)
        began = time.perf_counter()
        if count % plan.top_up_every == 0:
            top_up(workspace, kind, f"bench-top-up:{plan.run}:{number}:{count}")
            result.top_up_ms.append((time.perf_counter() - began) * 1000)
            result.top_ups += 1
        else:
            debit(workspace, kind, f"bench:{plan.run}:{number}:{count}")
            result.debit_ms.append((time.perf_counter() - began) * 1000)
            result.debits += 1
    result.ended = time.monotonic()
    result.cpu_seconds = time.thread_time() - cpu_before
    server_after = _process_cpu_seconds(backend)
    if server_before is not None and server_after is not None:
        result.server_cpu_seconds = server_after - server_before
    return result


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process of this machine, from /proc; None when it is not one of ours."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    if text[text.index("(") + 1 : text.rindex(")")] != "postgres":
        return None  # the same pid on another machine's server: here it is some other process
    fields = text[text.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5), counted from the state, which is the third.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _child(plan: Plan, number: int, start: StartLine, results: Any) -> None:
    """A spawned worker process: importing this module set Django up; it reports its result or its error."""
    connections["default"].settings_dict["NAME"] = plan.database_name
    # As Relasi's web and job processes do (config/wsgi.py, config/celery.py): what starting made is not walked by
    # every full collection of the loop's garbage.
    gc.collect()
    gc.freeze()
    try:
        with override_settings(DEBUG=False):
            results.put(("ok", _work(plan, number, start)))
    except BaseException:
        start.abort()
        results.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def _in_processes(plan: Plan, count: int) -> list[WorkerResult]:
    context = multiprocessing.get_context("spawn")
    # The parent waits at the start line too: it returns once every worker has set Django up and connected.
    start = context.Barrier(count + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_child, args=(plan, number, start, results), daemon=True)
        for number in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        _await_start(start, results)
        outcomes = [_outcome(results.get(timeout=plan.seconds + STARTUP_SECONDS)) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        return outcomes
    except queue.Empty:
        raise BenchError("A worker process stopped without reporting.") from None
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()


def _await_start(start: StartLine, results: Any) -> None:
    try:
        start.wait(timeout=STARTUP_SECONDS)
    except threading.BrokenBarrierError:
        # A worker that failed before the start line broke it: its error is the one to show.
        with contextlib.suppress(queue.Empty):
            _outcome(results.get(timeout=5))
        raise BenchError(f"The workers did not all start within {STARTUP_SECONDS} s.") from None


def _outcome(reported: tuple[str, Any]) -> WorkerResult:
    status, value = reported
    if status != "ok" or not isinstance(value, WorkerResult):
        raise BenchError(f"A worker failed:\n{value}")
    return value


def _in_threads(plan: Plan, count: int) -> list[WorkerResult]:
    start = threading.Barrier(count + 1)
    outcomes: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def thread(number: int) -> None:
        try:
            reported: tuple[str, Any] = ("ok", _work(plan, number, start))
        except BaseException:
            start.abort()
            reported = ("error", traceback.format_exc())
        finally:
            connections.close_all()
        with lock:
            outcomes.append(reported)

    threads = [threading.Thread(target=thread, args=(number,)) for number in range(count)]
    for each in threads:
        each.start()
    # A thread that failed broke the start line: its error is among the outcomes.
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(timeout=STARTUP_SECONDS)
    for each in threads:
        each.join()
    return [_outcome(reported) for reported in outcomes]


# --- Figures -----------------------------------------------------------------------------------------------------


def _part(
    mode: str, workspace_ids: list[int], *, seconds: float, run: str, options: BillingOptions, log: Log
) -> dict[str, Any]:
    plan = Plan(
        mode=mode,
        workspace_ids=tuple(workspace_ids),
        seconds=seconds,
        top_up_every=options.top_up_every,
        run=run,
        database_name=str(connection.settings_dict["NAME"]),
    )
    workers = "threads" if options.in_process else "processes"
    log(f"{mode}: {options.processes} {workers} for {seconds:g} s on {len(workspace_ids)} workspaces...")
    results = (_in_threads if options.in_process else _in_processes)(plan, options.processes)
    figures = _figures(results)
    figures["debits_in_ledger"] = sum(
        LedgerEntry.objects.for_workspace(workspace)
        .filter(reference__startswith=f"bench:{run}:", entry_type=EntryType.USAGE)
        .count()
        for workspace in Workspace.objects.filter(pk__in=workspace_ids)
    )
    figures["changes_off_chain"] = _changes_off_chain(workspace_ids)
    log(
        f"  {figures['debits']} debits, {figures['debits_per_second']}/s; p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms"
    )
    return figures


def _changes_off_chain(workspace_ids: list[int]) -> int:
    """Entries whose balance-after is not the one before it plus their amount: each is a change made from a
    balance another worker was changing at the time, whose effect one of the two then overwrote (the check itself
    reports only the first break of each balance; every later entry is off the running sum)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM (
                SELECT balance_after - amount AS before,
                    lag(balance_after) OVER (PARTITION BY workspace_id, kind ORDER BY id) AS previous
                FROM {LedgerEntry._meta.db_table} WHERE workspace_id = ANY(%s)
            ) AS chain WHERE previous IS NOT NULL AND before <> previous
            """,
            [workspace_ids],
        )
        return int(cursor.fetchone()[0])


def _figures(results: list[WorkerResult]) -> dict[str, Any]:
    debits = sum(result.debits for result in results)
    top_ups = sum(result.top_ups for result in results)
    wall = max(result.ended for result in results) - min(result.started for result in results)
    debit_ms = [sample for result in results for sample in result.debit_ms]
    top_up_ms = [sample for result in results for sample in result.top_up_ms]
    if not debit_ms:
        raise BenchError("No debit was made: give the workers more --seconds.")
    latency = _percentiles(debit_ms)
    return {
        "debits": debits,
        "top_ups": top_ups,
        "wall_seconds": round(wall, 2),
        "debits_per_second": round(debits / wall),
        "operations_per_second": round((debits + top_ups) / wall),
        "p50_ms": latency["p50_ms"],
        "p95_ms": latency["p95_ms"],
        "p99_ms": latency["p99_ms"],
        "max_ms": latency["max_ms"],
        "top_up_ms": _percentiles(top_up_ms) if top_up_ms else None,
        "debits_per_worker": [result.debits for result in results],
        **_cpu_figures(results, operations=debits + top_ups, wall=wall),
    }


def _cpu_figures(results: list[WorkerResult], *, operations: int, wall: float) -> dict[str, Any]:
    """Where the time goes: CPU per operation in the workers and in their database backends, and how many of the
    machine's cores the two kept busy together."""
    client = sum(result.cpu_seconds for result in results)
    measured = [result.server_cpu_seconds for result in results]
    server = None if None in measured else sum(value or 0.0 for value in measured)
    return {
        "worker_cpu_ms_per_operation": round(client / operations * 1000, 3),
        "server_cpu_ms_per_operation": None if server is None else round(server / operations * 1000, 3),
        "cores_busy": round((client + (server or 0.0)) / wall, 2),
        "cores": os.cpu_count(),
    }


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    summary = summarize(samples_ms)
    ordered = sorted(samples_ms)
    # Nearest rank, as summarize's p95.
    summary["p99_ms"] = round(ordered[max(0, -(-len(ordered) * 99 // 100) - 1)], 2)
    return summary


def _drift_figures(drifts: list[Drift], workspace_ids: list[int]) -> dict[str, Any]:
    """What the check found among these workspaces: the balances it does not prove, and by how much each one's
    row differs from the sum of its entries (positive: the row shows more than the ledger, debits lost)."""
    mine = [drift for drift in drifts if drift.workspace_id in set(workspace_ids)]
    return {
        "drift_balances": len(mine),
        "broken_chains": sum(drift.broken_entry_id is not None for drift in mine),
        "drift_rupiah": sum(
            drift.balance - drift.ledger_sum for drift in mine if drift.kind == BalanceKind.WHATSAPP
        ),
        "drift_visitors": sum(
            drift.balance - drift.ledger_sum for drift in mine if drift.kind == BalanceKind.MUV
        ),
        "drifts": [
            {
                "workspace": workspace_ids.index(drift.workspace_id) + 1,
                "kind": drift.kind,
                "balance": drift.balance,
                "ledger_sum": drift.ledger_sum,
                "difference": drift.balance - drift.ledger_sum,
                "first_broken_entry_id": drift.broken_entry_id,
            }
            for drift in mine
        ],
    }


def _verdict(result: dict[str, Any]) -> dict[str, bool]:
    locked = result["locked"]
    verdict = {
        "processes": result["processes"] >= TARGETS["processes"] and result["workers"] != "threads",
        "debits_per_second": locked["debits_per_second"] >= TARGETS["debits_per_second"],
        "debit_p99": locked["p99_ms"] <= TARGETS["debit_p99_ms"],
        "no_drift": locked["drift_balances"] == TARGETS["drift_balances"],
        "every_debit_in_ledger": locked["debits_in_ledger"] == locked["debits"],
    }
    verdict["all"] = all(verdict.values())
    return verdict
