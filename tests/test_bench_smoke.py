"""The benchmarks (`relasi bench customers`, `python -m bench.hostile`) run end to end on tiny data sets, so
they cannot rot between real runs. The figures themselves mean nothing here; the real ones are in
docs/benchmarks.md."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.db import connection

from relasi.accounts.models import User
from relasi.customers.models import Customer
from relasi.tenancy.models import Workspace

CASES = {
    f"{name}_{channel}"
    for name in (
        "first_page",
        "filter_source_month",
        "search_prefix",
        "search_infix",
        "search_phone",
        "search_rare",
        "search_phone_tail4",
        "search_phone_tail8",
        "search_phone_tail4_nonzero",
        "deep_cursor",
    )
    for channel in ("page", "api")
}


def test_bench_customers_reports_every_case_naive_comparison_and_import(db) -> None:
    # given 300 customers, two timed runs per case and a 200-row import file
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command(
        "bench",
        "customers",
        "--rows=300",
        "--iterations=2",
        "--warmups=1",
        "--deep-pages=3",
        "--import-rows=200",
        "--full-import-rows=100",
        "--import-in-process",
        stdout=out,
        stderr=err,
    )

    # then one JSON document with every figure
    result = json.loads(out.getvalue())
    assert set(result) == {
        "machine",
        "date",
        "command",
        "load_average",
        "rows",
        "generation_seconds",
        "generation_reused",
        "iterations",
        "warmups",
        "parameters",
        "cases",
        "naive",
        "ratios",
        "import",
        "import_into_full",
        "targets",
        "meets_targets",
    }
    assert result["rows"] == 300
    assert result["generation_reused"] is False
    assert set(result["cases"]) == CASES
    for figures in result["cases"].values():
        assert figures["n"] == 2
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
    assert result["parameters"]["deep_page_number"] == 4
    assert result["parameters"]["deep_api_page_number"] == 4
    assert result["parameters"]["offset"] == 150
    # the phone tail cases search the newest phone ending in 0 and three digits: +62…00000299, the 300th
    tail = result["parameters"]["phone_tail"]
    assert tail["phone"].endswith("00000299")
    assert result["parameters"]["scenarios"]["search_phone_tail4"] == {"q": "0299"}
    assert result["parameters"]["scenarios"]["search_phone_tail8"] == {"q": "00000299"}
    # no running number below 1,000 ends in four digits that do not start with 0: the same query then
    assert result["parameters"]["scenarios"]["search_phone_tail4_nonzero"] == {"q": "0299"}
    assert tail["tail8_first_page_matches"] == 1
    assert set(result["naive"]) == {
        "offset_paging",
        "like_infix",
        "like_rare",
        "exact_count",
        "like_phone_tail",
        "ours_sql",
    }
    # the reversed-phone index exists on PostgreSQL only (migration 0008): its bare SQL is timed there
    on_postgres = connection.vendor == "postgresql"
    assert set(result["naive"]["ours_sql"]) == {
        "keyset_paging",
        "trigram_infix",
        "trigram_rare",
        "capped_count",
    } | ({"reverse_phone_tail"} if on_postgres else set())
    assert set(result["ratios"]) == {
        "offset_vs_keyset_sql",
        "offset_sql_vs_keyset_api_request",
        "like_infix_vs_trigram_sql",
        "like_infix_sql_vs_search_infix_api_request",
        "like_rare_vs_trigram_sql",
        "like_rare_sql_vs_search_rare_api_request",
        "exact_count_vs_capped_count",
    } | ({"like_phone_tail_vs_reverse_prefix_sql"} if on_postgres else set())
    imported = result["import"]
    assert imported["status"] == "completed"
    assert imported["rows"] == imported["total_rows"] == imported["processed_rows"] == 200
    assert imported["created"] + imported["updated"] + imported["skipped"] + imported["failed"] == 200
    assert imported["counts_add_up"] is True
    assert imported["failed"] == imported["expected"]["bad_rows"]
    assert imported["skipped"] == imported["expected"]["duplicate_rows"]
    assert imported["rows_per_second"] > 0
    assert imported["peak_rss_mb"] > 0
    assert set(imported["batch_ms"]) == {"p50_ms", "p95_ms", "max_ms", "n"}
    # the same file kind into the list workspace of 300, a tenth of it people the workspace has
    into_full = result["import_into_full"]
    assert into_full["status"] == "completed"
    assert into_full["counts_add_up"] is True
    assert into_full["expected"]["existing_customer_rows"] > 0
    assert (
        into_full["skipped"]
        >= into_full["expected"]["duplicate_rows"] + into_full["expected"]["existing_customer_rows"]
    )
    # and the list workspace is as generated again
    assert Customer.objects.for_workspace(Workspace.objects.get(slug="bench")).count() == 300
    assert result["targets"] == {"list_p95_ms": 50, "import_rows_per_second": 5000, "import_peak_rss_mb": 300}
    assert set(result["meets_targets"]) == {
        "list_p95",
        "list_misses_p95_ms",
        "import_rows_per_second",
        "import_peak_rss",
        "import_counts_add_up",
        "import_into_full_rows_per_second",
        "import_into_full_peak_rss",
        "import_into_full_counts_add_up",
        "all",
    }


def test_bench_hostile_refuses_every_case_as_expected_and_cleans_up(acme, alice) -> None:
    # given the hostile-input benchmark (issue 8), and its workbook with no part replaced, which the import
    # accepts: the refusals come from the hostile parts alone, not from a builder's mistake
    from bench import hostile

    assert hostile.xlsx_upload(acme, alice, hostile.workbook_with({}))() == "accepted"

    # when it runs once per case (the 1.1 M-row file left out: building it is the slowest part)
    result = hostile.hostile_bench(
        iterations=1, warmups=0, log=lambda _message: None, include_million_rows=False
    )

    # then every case gets the answer it expects, and nothing was stored
    answers = {case["name"]: case["status"] for case in result["cases"]}
    assert answers == {
        "xlsx_1gib_shared_strings_bomb": "too_large",
        "xlsx_row_2000000000": "unreadable",
        "number_1e400000": 422,
        "number_1e1000000": 422,
        "number_5000_nines": 422,
        "number_1e400000_as_json_number": 422,
        "number_5000_nines_as_json_number": 422,
        "date_2026_02_30": 422,
        "nul_in_full_name": 422,
        "json_body_11mb_customers": 413,
        "json_body_11mb_customer_imports": 422,
        "multipart_without_boundary": 400,
        "number_checked_1e400000_alone": "number_range",
        "number_checked_1e1000000_alone": "number_range",
        "number_checked_5000_nines_alone": "number_range",
    }
    assert result["all_as_expected"] is True
    assert result["nothing_stored"] is True
    for case in result["cases"]:
        assert case["n"] == 1
        assert 0 < case["median_ms"] <= case["max_ms"]
    assert set(result["peak_rss_mb"]) == {"at_start", "before_xlsx", "after_xlsx", "at_end"}
    # and its workspace and owner are gone again
    assert not Workspace.objects.filter(slug=hostile.SLUG).exists()
    assert not User.objects.filter(email=hostile.OWNER_EMAIL).exists()
