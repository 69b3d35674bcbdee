"""The All customers benchmark (issue 3): a million customers, timed through the real request path.

In order:
1. make sure workspace "bench" holds exactly N live customers (bench/dataset.py);
2. time the All customers page (the htmx table fragment) and the API list: first page, page 501 by cursor,
   source + month filter, prefix / infix / phone / rare search, a phone's last 4 or 8 digits (issue 9);
3. time the naive alternatives (OFFSET paging, LIKE no index covers, exact count, a phone's end by LIKE) as raw
   SQL in the same run;
4. import a generated 1,048,576-row CSV into workspace "bench-import" in a child process and sample its
   peak RSS.

`run_customer_bench` returns the JSON-ready result; progress goes to the `log` callable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Max
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import BenchError, BenchOptions, Log, timed
from bench.dataset import Dataset, ensure_dataset, load_average, machine_info
from bench.imports import measure_import, measure_import_into_full
from relasi.customers import filters as customer_filters
from relasi.customers import selectors
from relasi.customers.models import Customer
from relasi.tenancy.models import Workspace
from relasi.tenancy.services import api_key_create, api_key_revoke

PAGE_LIMIT = 50
TARGETS: dict[str, int] = {"list_p95_ms": 50, "import_rows_per_second": 5000, "import_peak_rss_mb": 300}
NAIVE_FULL_RUNS_UP_TO = 1_000_000
NAIVE_MIN_RUNS = 5
HTMX_HEADERS = {"HX-Request": "true", "HX-Target": "customer-table"}


# --- Timing ----------------------------------------------------------------------------------------------


def _ratio(naive: dict[str, Any], ours: dict[str, Any]) -> float:
    return round(float(naive["p50_ms"]) / max(float(ours["p50_ms"]), 0.001), 1)


# --- Requests --------------------------------------------------------------------------------------------


def _check(response: Any, url: str) -> Any:
    if response.status_code != 200:
        body = response.content[:300].decode(errors="replace")
        raise BenchError(f"GET {url} answered {response.status_code}: {body}")
    return response


def page_url(workspace: Workspace, params: dict[str, Any]) -> str:
    base = f"/app/{workspace.slug}/customers/"
    return f"{base}?{urlencode(params, doseq=True)}" if params else base


def api_url(params: dict[str, Any]) -> str:
    return f"/api/v1/customers?{urlencode({**params, 'limit': PAGE_LIMIT}, doseq=True)}"


def _api_json(client: Client, url: str) -> dict[str, Any]:
    data = _check(client.get(url), url).json()
    if not isinstance(data, dict) or "next_cursor" not in data:
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise BenchError(f"GET {url}: expected a JSON object with next_cursor, got {keys}")
    return data


def _request_call(client: Client, url: str, headers: dict[str, str] | None = None) -> Callable[[], object]:
    def call() -> object:
        return _check(client.get(url, headers=headers), url)

    return call


def _sql_call(sql: str, params: list[Any] | None = None) -> Callable[[], object]:
    def call() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return call


def page_sql(*, workspace: Workspace, params: dict[str, Any], cursor: str | None) -> str:
    """The SQL the list selector runs for these filters, as sent to the database (to time it bare)."""
    filters = customer_filters.customer_filters_parse(params)
    with CaptureQueriesContext(connection) as captured:
        selectors.customer_page(workspace=workspace, filters=filters, cursor=cursor, limit=PAGE_LIMIT)
    statements = [query["sql"] for query in captured.captured_queries if "ORDER BY" in query["sql"]]
    if not statements:
        raise BenchError("Could not capture the list query of selectors.customer_page.")
    return statements[-1]


def _selector_deep_cursor(*, workspace: Workspace, pages: int) -> tuple[str | None, int]:
    """The cursor the page would link to after `pages` pages, and how many pages there were to walk."""
    filters = customer_filters.CustomerFilters()
    cursor: str | None = None
    walked = 0
    for _ in range(pages):
        page = selectors.customer_page(workspace=workspace, filters=filters, cursor=cursor, limit=PAGE_LIMIT)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
        walked += 1
    return cursor, walked


def _api_deep_cursor(*, client: Client, pages: int) -> tuple[str | None, int]:
    cursor: str | None = None
    walked = 0
    for _ in range(pages):
        data = _api_json(client, api_url({"cursor": cursor} if cursor else {}))
        if not data["next_cursor"]:
            break
        cursor = str(data["next_cursor"])
        walked += 1
    return cursor, walked


@dataclass(frozen=True)
class Probes:
    """Search terms and a month that exist in the generated data."""

    month: str
    phone_query: str
    rare_query: str
    # The phone whose last digits the phone tail cases search for, and the digits: 4 starting with 0 (the
    # issue's "0243", a prefix of the reversed number), its last 8, and 4 of another phone that do not start
    # with 0 (not a phone's start either, so the search looks for them anywhere inside the number).
    tail_phone: str
    tail4_query: str
    tail8_query: str
    tail4_nonzero_query: str


def _newest_phone(customers: Any, pattern: str) -> str | None:
    phone = customers.filter(phone__regex=pattern).order_by("-id").values_list("phone", flat=True).first()
    return None if phone is None else str(phone)


def find_probes(*, workspace: Workspace) -> Probes:
    customers = Customer.objects.for_workspace(workspace).filter(deleted_at__isnull=True)
    latest = customers.aggregate(latest=Max("updated_at"))["latest"] or timezone.now()
    # Half a year back: a full month of data whatever day the set was generated on.
    month = timezone.localtime(latest - timedelta(days=182), workspace.zone).strftime("%Y-%m")
    phone = customers.filter(phone__startswith="+62812").values_list("phone", flat=True).first()
    if phone is None:
        phone = customers.exclude(phone="").values_list("phone", flat=True).first() or "+6281200000000"
    # Local format, as people type it: 0812 and the next four digits.
    phone_query = "0" + phone[3:10]
    email = customers.exclude(email="").order_by("-id").values_list("email", flat=True).first() or "nobody"
    # The newest phones whose ends have the shape wanted: generated phones end in a running number of 8
    # digits, so every end of 4 digits is shared by one phone in 10,000 (100 at a million customers).
    tail_phone = _newest_phone(customers, r"0[0-9]{3}$")
    if tail_phone is None:
        raise BenchError(
            "No generated phone ends in 0 and three digits: too few customers for the tail cases."
        )
    # Below 1,000 customers every running number ends in 0 and three digits: the same query then.
    nonzero_phone = _newest_phone(customers, r"[1-9][0-9]{3}$") or tail_phone
    return Probes(
        month=month,
        phone_query=phone_query,
        rare_query=email.split("@")[0],
        tail_phone=tail_phone,
        tail4_query=tail_phone[-4:],
        tail8_query=tail_phone[-8:],
        tail4_nonzero_query=nonzero_phone[-4:],
    )


def _check_phone_tail_found(*, client: Client, probes: Probes) -> int:
    """How many customers the first API page of the 8-digit tail holds; a BenchError unless the probe's phone
    is among them (the search code without the phone tail finds nothing, and timing that would mislead)."""
    data = _api_json(client, api_url({"q": probes.tail8_query}))
    phones = [item.get("phone") for item in data.get("items", [])]
    if probes.tail_phone not in phones:
        raise BenchError(
            f"Searching {probes.tail8_query!r} did not find {probes.tail_phone}: "
            "the phone tail search is missing or broken."
        )
    return len(phones)


def naive_runs(*, rows: int, iterations: int, warmups: int) -> tuple[int, int]:
    """Timed runs and warm-ups of the naive alternatives: fewer above a million customers, where the unindexed
    LIKE reads the whole table (about 25 s a run at ten million: 50 runs would take over twenty minutes)."""
    if rows <= NAIVE_FULL_RUNS_UP_TO:
        return iterations, warmups
    return max(NAIVE_MIN_RUNS, iterations * NAIVE_FULL_RUNS_UP_TO // rows), min(warmups, 1)


def measure_lists(
    *, dataset: Dataset, probes: Probes, options: BenchOptions, log: Log
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Cases, naive alternatives, ratios and the parameters used."""
    workspace = dataset.workspace
    iterations, warmups = options.iterations, options.warmups
    page_client = Client()
    page_client.force_login(dataset.owner)
    issued = api_key_create(workspace=workspace, actor=dataset.owner, name="benchmark")
    api_client = Client(headers={"Authorization": f"Bearer {issued.token}"})
    cases: dict[str, Any] = {}
    naive: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    try:
        scenarios: dict[str, dict[str, Any]] = {
            "first_page": {},
            "filter_source_month": {
                "source": ["whatsapp", "instagram"],
                "date": "month",
                "month": probes.month,
            },
            "search_prefix": {"q": "Bud"},
            "search_infix": {"q": "anto"},
            "search_phone": {"q": probes.phone_query},
            "search_rare": {"q": probes.rare_query},
            "search_phone_tail4": {"q": probes.tail4_query},
            "search_phone_tail8": {"q": probes.tail8_query},
            "search_phone_tail4_nonzero": {"q": probes.tail4_nonzero_query},
        }
        tail8_matches = _check_phone_tail_found(client=api_client, probes=probes)
        for name, params in scenarios.items():
            log(f"Timing {name} ({iterations} runs after {warmups} warm-ups)...")
            cases[f"{name}_page"] = timed(
                _request_call(page_client, page_url(workspace, params), HTMX_HEADERS),
                iterations=iterations,
                warmups=warmups,
            )
            cases[f"{name}_api"] = timed(
                _request_call(api_client, api_url(params)), iterations=iterations, warmups=warmups
            )

        log(f"Walking {options.deep_pages} pages by cursor (page and API)...")
        page_cursor, page_depth = _selector_deep_cursor(workspace=workspace, pages=options.deep_pages)
        api_cursor, api_depth = _api_deep_cursor(client=api_client, pages=options.deep_pages)
        deep_page_params = {"cursor": page_cursor} if page_cursor else {}
        deep_api_params = {"cursor": api_cursor} if api_cursor else {}
        log(f"Timing page {page_depth + 1} by cursor...")
        cases["deep_cursor_page"] = timed(
            _request_call(page_client, page_url(workspace, deep_page_params), HTMX_HEADERS),
            iterations=iterations,
            warmups=warmups,
        )
        cases["deep_cursor_api"] = timed(
            _request_call(api_client, api_url(deep_api_params)), iterations=iterations, warmups=warmups
        )

        log("Timing the naive alternatives as raw SQL...")
        table = Customer._meta.db_table
        live = f"workspace_id = {int(workspace.pk)} AND deleted_at IS NULL"
        offset = page_depth * PAGE_LIMIT
        naive_sql = {
            "offset_paging": (
                f"SELECT * FROM {table} WHERE {live} ORDER BY updated_at DESC, id DESC LIMIT {PAGE_LIMIT} OFFSET {offset}",
                None,
            ),
            "like_infix": (
                f"SELECT * FROM {table} WHERE {live} AND lower(full_name) LIKE %s "
                f"ORDER BY updated_at DESC, id DESC LIMIT {PAGE_LIMIT}",
                ["%anto%"],
            ),
            "like_rare": (
                f"SELECT * FROM {table} WHERE {live} AND (lower(full_name) LIKE %s OR lower(email) LIKE %s) "
                f"ORDER BY updated_at DESC, id DESC LIMIT {PAGE_LIMIT}",
                [f"%{probes.rare_query.lower()}%"] * 2,
            ),
            "exact_count": (f"SELECT count(*) FROM {table} WHERE {live}", None),
            # What a phone's end cost before the reversed index: LIKE '%0243', which only the phone's
            # trigram index can help with.
            "like_phone_tail": (
                f"SELECT * FROM {table} WHERE {live} AND phone LIKE %s "
                f"ORDER BY updated_at DESC, id DESC LIMIT {PAGE_LIMIT}",
                [f"%{probes.tail4_query}"],
            ),
        }
        naive_iterations, naive_warmups = naive_runs(
            rows=dataset.rows, iterations=iterations, warmups=warmups
        )
        for name, (sql, sql_params) in naive_sql.items():
            naive[name] = {
                **timed(_sql_call(sql, sql_params), iterations=naive_iterations, warmups=naive_warmups),
                "sql": sql,
                "params": sql_params or [],
            }
        ours_sql = {
            "keyset_paging": page_sql(workspace=workspace, params={}, cursor=page_cursor),
            "trigram_infix": page_sql(workspace=workspace, params={"q": "anto"}, cursor=None),
            "trigram_rare": page_sql(workspace=workspace, params={"q": probes.rare_query}, cursor=None),
        }
        ours: dict[str, Any] = {
            name: {**timed(_sql_call(sql), iterations=iterations, warmups=warmups), "sql": sql}
            for name, sql in ours_sql.items()
        }
        # The same query as like_phone_tail with the condition the search writes for a tail (migration 0008's
        # expression), to compare the two indexes alone; the whole search adds name and email to it.
        if connection.vendor == "postgresql":
            reverse_sql = (
                f'SELECT * FROM {table} WHERE {live} AND REVERSE("phone") LIKE %s '
                f"ORDER BY updated_at DESC, id DESC LIMIT {PAGE_LIMIT}"
            )
            reverse_params = [probes.tail4_query[::-1] + "%"]
            ours["reverse_phone_tail"] = {
                **timed(_sql_call(reverse_sql, reverse_params), iterations=iterations, warmups=warmups),
                "sql": reverse_sql,
                "params": reverse_params,
            }
        ours["capped_count"] = {
            **timed(
                lambda: selectors.customer_count(
                    workspace=workspace, filters=customer_filters.CustomerFilters()
                ),
                iterations=iterations,
                warmups=warmups,
            ),
            "sql": "selectors.customer_count: COUNT over LIMIT 1001, then the planner's estimate",
        }
        naive["ours_sql"] = ours
        ratios = {
            "offset_vs_keyset_sql": _ratio(naive["offset_paging"], ours["keyset_paging"]),
            "offset_sql_vs_keyset_api_request": _ratio(naive["offset_paging"], cases["deep_cursor_api"]),
            "like_infix_vs_trigram_sql": _ratio(naive["like_infix"], ours["trigram_infix"]),
            "like_infix_sql_vs_search_infix_api_request": _ratio(
                naive["like_infix"], cases["search_infix_api"]
            ),
            "like_rare_vs_trigram_sql": _ratio(naive["like_rare"], ours["trigram_rare"]),
            "like_rare_sql_vs_search_rare_api_request": _ratio(naive["like_rare"], cases["search_rare_api"]),
            "exact_count_vs_capped_count": _ratio(naive["exact_count"], ours["capped_count"]),
        }
        if "reverse_phone_tail" in ours:
            ratios["like_phone_tail_vs_reverse_prefix_sql"] = _ratio(
                naive["like_phone_tail"], ours["reverse_phone_tail"]
            )
        parameters = {
            "page_size": PAGE_LIMIT,
            "deep_page_number": page_depth + 1,
            "deep_api_page_number": api_depth + 1,
            "offset": offset,
            "scenarios": scenarios,
            "naive_iterations": naive_iterations,
            "naive_warmups": naive_warmups,
            "phone_tail": {
                "phone": probes.tail_phone,
                "tail8_first_page_matches": tail8_matches,
                "tail4_nonzero_phone_ends_with": probes.tail4_nonzero_query,
            },
            "page_headers": HTMX_HEADERS,
        }
    finally:
        api_key_revoke(workspace=workspace, actor=dataset.owner, api_key_id=issued.api_key.pk)
    return cases, naive, ratios, parameters


# --- Import ----------------------------------------------------------------------------------------------

# --- The run ---------------------------------------------------------------------------------------------


def _import_verdict(imported: dict[str, Any], prefix: str) -> dict[str, bool]:
    return {
        f"{prefix}_rows_per_second": imported["rows_per_second"] >= TARGETS["import_rows_per_second"],
        f"{prefix}_peak_rss": imported["peak_rss_mb"] <= TARGETS["import_peak_rss_mb"],
        f"{prefix}_counts_add_up": bool(imported["counts_add_up"]),
    }


def _meets_targets(
    cases: dict[str, Any], imported: dict[str, Any] | None, into_full: dict[str, Any] | None
) -> dict[str, Any]:
    limit = TARGETS["list_p95_ms"]
    misses = {name: figures["p95_ms"] for name, figures in cases.items() if figures["p95_ms"] > limit}
    verdict: dict[str, Any] = {"list_p95": not misses, "list_misses_p95_ms": misses}
    if imported is not None:
        verdict.update(_import_verdict(imported, "import"))
    if into_full is not None:
        verdict.update(_import_verdict(into_full, "import_into_full"))
    verdict["all"] = all(value for key, value in verdict.items() if key != "list_misses_p95_ms")
    return verdict


def run_customer_bench(options: BenchOptions, *, log: Log) -> dict[str, Any]:
    # Production runs with DEBUG off: no query log, no template debug information. The API's rate limit
    # stays on (its counter is part of each request's cost) but high enough for the timed runs.
    with override_settings(DEBUG=False, API_RATE_LIMIT_PER_KEY="1000000/min"):
        load_before = load_average()
        started = timezone.now()
        dataset = ensure_dataset(rows=options.rows, log=log)
        probes = find_probes(workspace=dataset.workspace)
        cases, naive, ratios, parameters = measure_lists(
            dataset=dataset, probes=probes, options=options, log=log
        )
        into_full = None
        if not options.skip_import and options.full_import_rows:
            into_full = measure_import_into_full(
                options=options, workspace=dataset.workspace, owner=dataset.owner, log=log
            )
        imported = (
            None if options.skip_import else measure_import(options=options, owner=dataset.owner, log=log)
        )
        return {
            "machine": machine_info(),
            "date": started.isoformat(timespec="seconds"),
            "command": options.command(),
            "load_average": {"before": load_before, "after": load_average()},
            "rows": dataset.rows,
            "generation_seconds": dataset.generation_seconds,
            "generation_reused": dataset.reused,
            "iterations": options.iterations,
            "warmups": options.warmups,
            "parameters": parameters,
            "cases": cases,
            "naive": naive,
            "ratios": ratios,
            "import": imported,
            "import_into_full": into_full,
            "targets": TARGETS,
            "meets_targets": _meets_targets(cases, imported, into_full),
        }
