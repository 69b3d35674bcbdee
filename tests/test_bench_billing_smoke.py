"""`relasi bench billing` runs end to end for a second, so it cannot rot between real runs. The figures mean
nothing here; the real ones are in docs/benchmarks.md."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from relasi.tenancy.models import Workspace

FIGURES = {
    "debits",
    "top_ups",
    "wall_seconds",
    "debits_per_second",
    "operations_per_second",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "top_up_ms",
    "debits_per_worker",
    "debits_in_ledger",
    "changes_off_chain",
    "drift_balances",
    "broken_chains",
    "drift_rupiah",
    "drift_visitors",
    "drifts",
    "worker_cpu_ms_per_operation",
    "server_cpu_ms_per_operation",
    "cores_busy",
    "cores",
}


def bench_billing(*arguments: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    call_command("bench", "billing", *arguments, stdout=out, stderr=err)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark refuses SQLite")
@pytest.mark.django_db(transaction=True)
def test_bench_billing_debits_from_two_processes_without_drift_beside_the_naive_way() -> None:
    # given two worker processes, two workspaces and a second of each part (committed data: the workers are
    # processes of their own, connected to the test database)

    # when
    result = bench_billing("--processes=2", "--seconds=1", "--naive-seconds=1", "--workspaces=2")

    # then one JSON document with every figure
    assert set(result) == {
        "machine",
        "date",
        "command",
        "load_average",
        "processes",
        "workers",
        "seconds",
        "naive_seconds",
        "workspaces",
        "balances",
        "top_up_every",
        "locked",
        "naive",
        "targets",
        "meets_targets",
    }
    assert result["workers"] == "processes (spawn)"
    assert set(result["locked"]) == FIGURES | {"queries"}
    assert set(result["naive"]) == FIGURES
    # and under the lock every debit is in the ledger and the check finds nothing
    locked = result["locked"]
    assert locked["debits"] > 0
    assert locked["debits_in_ledger"] == locked["debits"]
    assert locked["drift_balances"] == locked["broken_chains"] == locked["changes_off_chain"] == 0
    assert locked["drifts"] == []
    assert 0 < locked["p50_ms"] <= locked["p95_ms"] <= locked["p99_ms"] <= locked["max_ms"]
    assert len(locked["debits_per_worker"]) == 2
    assert locked["worker_cpu_ms_per_operation"] > 0
    # one debit is a locked select, the entry inside a savepoint, and the balance's update, in a transaction
    assert locked["queries"]["debit"] >= 4
    # and the naive way ran as long, its drifts counted (how many depends on the timing)
    assert result["naive"]["debits"] > 0
    assert result["naive"]["drift_balances"] == len(result["naive"]["drifts"])
    # and its workspaces are gone, so `relasi billing check` stays clean; the locked part's stay for a look
    slugs = set(Workspace.objects.filter(slug__startswith="bench-billing-").values_list("slug", flat=True))
    assert slugs == {"bench-billing-1", "bench-billing-2"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark refuses SQLite")
@pytest.mark.django_db(transaction=True)
def test_bench_billing_in_process_threads() -> None:
    # when the workers are threads of this process
    result = bench_billing("--processes=2", "--seconds=0.5", "--naive-seconds=0.5", "--in-process")

    # then the same figures, and no drift under the lock
    assert result["workers"] == "threads"
    assert result["locked"]["debits"] > 0
    assert result["locked"]["drift_balances"] == 0
    # threads are not the processes the target asks for
    assert result["meets_targets"]["processes"] is False


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is SQLite's")
@pytest.mark.django_db
def test_bench_billing_refuses_sqlite() -> None:
    # when it is run on SQLite, then it says why it does not run
    with pytest.raises(CommandError, match="PostgreSQL"):
        bench_billing("--seconds=1")
