"""The interactions benchmark (issue 10), on PostgreSQL, in the workspace of the customers benchmark ("bench", a
million customers):

1. the customer page of a customer with 10,000 interactions and a timeline of 50,000 lines (bench/interactions_data.py):
   its reads (timeline page, activity counts, each tab's first page) and, when the page exists, the page itself
   through Django's request path; naive alternative: the timeline assembled at read time from the audit log of the
   customer's records;
2. `POST /api/v1/events` through gunicorn on 127.0.0.1 (two web processes): batches of 50 events sent by a bounded
   number of clients, events/s and the time of each batch; naive alternative: one request per event;
3. the WhatsApp webhook through the same gunicorn, with two Celery workers on Redis taking the jobs from the
   ingestion queue: the time to answer each POST while the workers run (live), and the rate at which the workers
   turn a backlog of stored events into messages (the webhooks stored with no worker running, then drained).

`run_interactions_bench` returns the JSON-ready result; progress goes to `log`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.common import BenchError, Log, bench_workspace, summarize, timed
from bench.dataset import ensure_dataset, load_average, machine_info
from bench.interactions_data import busy_customer_present, ensure_busy_customer
from relasi.customers.selectors import customer_timeline_page
from relasi.interactions.channels import whatsapp_channel_add
from relasi.interactions.models import Message, WebhookEvent
from relasi.interactions.selectors import customer_activity_counts, records_page
from relasi.tenancy.models import Workspace
from relasi.tenancy.services import api_key_create, api_key_revoke

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "detail_page_p95_ms": 80,
    "events_per_second": 1000,
    "events_batch_p99_ms": 100,
    "webhook_answer_p99_ms": 20,
    "webhook_messages_per_second": 500,
}
BATCH = 50
# The URL name of the customer page (the page with the tabs and the timeline).
DETAIL_URL_NAME = "interactions:customer_detail"


@dataclass(frozen=True)
class InteractionsOptions:
    rows: int = 1_000_000
    iterations: int = 50
    warmups: int = 3
    batches: int = 400
    # As many clients as web processes: a bounded load that keeps each one busy without a queue in front of it.
    clients: int = 2
    naive_events: int = 1_000
    webhooks: int = 3_000
    web_workers: int = 2
    job_workers: int = 2

    def command(self) -> str:
        return (
            f"relasi bench interactions --rows {self.rows} --iterations {self.iterations} --batches {self.batches} "
            f"--clients {self.clients} --webhooks {self.webhooks}"
        )


def run_interactions_bench(options: InteractionsOptions, *, log: Log) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise BenchError("The interactions benchmark runs on PostgreSQL (set DATABASE_URL).")
    started = timezone.now()
    load_before = load_average()
    # The busy customer is one more in the list workspace: counted, so the million is reused, not regenerated.
    dataset = ensure_dataset(rows=options.rows + (1 if busy_customer_present() else 0), log=log)
    busy = ensure_busy_customer(workspace=dataset.workspace, log=log)
    with override_settings(DEBUG=False):
        detail = measure_detail(
            workspace=dataset.workspace, owner=dataset.owner, customer=busy.customer, options=options, log=log
        )
    # Ingestion writes customers: into a workspace of its own, made afresh, so the list of a million stays as
    # generated (and the next run reuses it).
    ingest = _fresh_workspace(owner=dataset.owner, log=log)
    with gunicorn(options=options, log=log) as base_url:
        events = measure_events(
            base_url=base_url, workspace=ingest, owner=dataset.owner, options=options, log=log
        )
        backlog = measure_webhook_backlog(
            base_url=base_url, workspace=ingest, owner=dataset.owner, options=options, log=log
        )
        with celery_workers(count=options.job_workers, log=log):
            webhook = measure_webhook(
                base_url=base_url, workspace=ingest, owner=dataset.owner, options=options, log=log
            )
        webhook["backlog"] = backlog
    result = {
        "machine": machine_info(),
        "date": started.isoformat(timespec="seconds"),
        "command": options.command(),
        "load_average": {"before": load_before, "after": load_average()},
        "rows": dataset.rows,
        "busy_customer": {
            "interactions": busy.interactions,
            "timeline": busy.timeline,
            "generation_seconds": busy.generation_seconds,
        },
        "detail": detail,
        "events": events,
        "webhook": webhook,
        "targets": TARGETS,
    }
    result["meets_targets"] = _verdict(result)
    return result


INGEST_SLUG = "bench-ingest"


def _fresh_workspace(*, owner: Any, log: Log) -> Workspace:
    stale = Workspace.objects.filter(slug=INGEST_SLUG).first()
    if stale is not None:
        log(f"Deleting the workspace '{INGEST_SLUG}' of the last run...")
        stale.delete()
    return bench_workspace(slug=INGEST_SLUG, name="Benchmark ingestion", owner=owner)


def _verdict(result: dict[str, Any]) -> dict[str, bool]:
    page = result["detail"].get("page")
    verdict = {
        "detail_page_p95": page is not None and page["p95_ms"] <= TARGETS["detail_page_p95_ms"],
        "events_per_second": result["events"]["batched"]["events_per_second"] >= TARGETS["events_per_second"],
        "events_batch_p99": result["events"]["batched"]["batch_ms"]["p99_ms"]
        <= TARGETS["events_batch_p99_ms"],
        "webhook_answer_p99": result["webhook"]["answer_ms"]["p99_ms"] <= TARGETS["webhook_answer_p99_ms"],
        "webhook_messages_per_second": result["webhook"]["backlog"]["messages_per_second"]
        >= TARGETS["webhook_messages_per_second"],
    }
    verdict["all"] = all(verdict.values())
    return verdict


def _with_p99(samples_ms: list[float]) -> dict[str, float]:
    summary = summarize(samples_ms)
    ordered = sorted(samples_ms)
    summary["p99_ms"] = round(ordered[max(0, int(len(ordered) * 0.99 + 0.999999) - 1)], 2)
    return summary


# --- 1. The customer page -------------------------------------------------------------------------------------


def measure_detail(
    *, workspace: Workspace, owner: Any, customer: Any, options: InteractionsOptions, log: Log
) -> dict[str, Any]:
    log("Timing the reads of the customer page...")
    iterations, warmups = options.iterations, options.warmups
    reads = {
        "timeline_first_page": timed(
            lambda: customer_timeline_page(workspace=workspace, customer=customer, cursor=None).items,
            iterations=iterations,
            warmups=warmups,
        ),
        "activity_counts": timed(
            lambda: customer_activity_counts(workspace=workspace, customer=customer),
            iterations=iterations,
            warmups=warmups,
        ),
    }
    for kind in ("conversation", "ticket", "deal", "task"):
        reads[f"tab_{kind}"] = timed(
            _tab_read(workspace, kind, customer), iterations=iterations, warmups=warmups
        )
    naive = timed(_naive_timeline(workspace=workspace, customer=customer), iterations=10, warmups=1)
    page = None
    try:
        url = reverse(DETAIL_URL_NAME, kwargs={"workspace_slug": workspace.slug, "customer_id": customer.pk})
    except NoReverseMatch:
        url = ""
        log(f"  no page named {DETAIL_URL_NAME}: the page itself is not timed")
    if url:
        client = Client()
        client.force_login(owner)

        def get_page() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code}")

        log(f"Timing the customer page {url}...")
        page = timed(get_page, iterations=iterations, warmups=warmups)
    return {"url": url, "page": page, "reads": reads, "naive_timeline_from_audit_log": naive}


def _tab_read(workspace: Workspace, kind: str, customer: Any) -> Callable[[], object]:
    def read() -> object:
        return records_page(workspace=workspace, kind=kind, customer=customer).items

    return read


def _naive_timeline(*, workspace: Workspace, customer: Any) -> Callable[[], object]:
    """The timeline as it would be without its own table: the audit rows of the customer and of every record
    associated with it, newest first, 20 of them."""
    parts = ["(target_type = 'customers.customer' AND target_id = %s)"]
    params: list[Any] = [str(customer.pk)]
    for kind, table in (
        ("conversation", "interactions_conversationcustomer"),
        ("ticket", "interactions_ticketcustomer"),
        ("deal", "interactions_dealcustomer"),
        ("task", "interactions_taskcustomer"),
    ):
        parts.append(
            f"(target_type = 'interactions.{kind}' AND target_id IN "
            f"(SELECT record_id::text FROM {table} WHERE workspace_id = %s AND customer_id = %s))"
        )
        params += [workspace.pk, customer.pk]
    sql = (
        "SELECT id, action, created_at FROM core_auditlog WHERE workspace_id = %s AND ("
        + " OR ".join(parts)
        + ") ORDER BY created_at DESC, id DESC LIMIT 20"
    )

    def run() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, [workspace.pk, *params])
            return cursor.fetchall()

    return run


# --- Servers --------------------------------------------------------------------------------------------------


def _server_environ(var_dir: Path) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RELASI_TESTING", "DJANGO_SETTINGS_MODULE")
    }
    environ.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        RELASI_VAR_DIR=str(var_dir),
        API_RATE_LIMIT_PER_KEY="10000000/min",
        PYTHONPATH=str(ROOT),
    )
    return environ


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(*, options: InteractionsOptions, log: Log) -> Iterator[str]:
    var_dir = Path(tempfile.mkdtemp(prefix="relasi-bench-"))
    port = _free_port()
    log_file = (var_dir / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.web_workers),
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=_server_environ(var_dir),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_up(port=port, process=process, log_path=var_dir / "gunicorn.log")
        log(f"gunicorn up on 127.0.0.1:{port} ({options.web_workers} workers)")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log_file.close()


def _wait_until_up(*, port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn stopped:\n{log_path.read_text(errors='replace')[-2000:]}")
        try:
            connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection_.request("GET", "/healthz")
            if connection_.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise BenchError("gunicorn did not answer within 60 s")


@contextmanager
def celery_workers(*, count: int, log: Log) -> Iterator[None]:
    var_dir = Path(tempfile.mkdtemp(prefix="relasi-bench-workers-"))
    environ = _server_environ(var_dir)
    processes = []
    for number in range(count):
        log_file = (var_dir / f"worker{number}.log").open("wb")
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--queues",
                    settings.CELERY_INGESTION_QUEUE,
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "--hostname",
                    f"bench{number}@%h",
                ],
                cwd=ROOT,
                env=environ,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    time.sleep(3)
    log(f"{count} Celery workers on the ingestion queue")
    try:
        yield
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


# --- 2. The event API ------------------------------------------------------------------------------------------


def _event(run: str, number: int) -> dict[str, Any]:
    # Every other event is a message of a customer the batch has just named: new customers, messages, identities.
    person = number // 2
    contact = {"full_name": f"Bench {run} {person}", "phone": f"+62813{(hash(run) % 1000):03d}{person:06d}"}
    if number % 2 == 0:
        return {"id": f"{run}-{number}", "type": "contact", "contact": contact}
    return {
        "id": f"{run}-{number}",
        "type": "message",
        "message": {
            "contact": contact,
            "channel": "whatsapp",
            "direction": "inbound",
            "text": f"Halo {number}",
            "provider_message_id": f"bench.{run}.{number}",
        },
    }


def _post_all(
    *,
    base_url: str,
    path: str,
    bodies: list[bytes],
    clients: int,
    headers: Callable[[bytes], dict[str, str]],
    problem: Callable[[int, bytes], str | None],
) -> tuple[list[float], float]:
    """POST the bodies to `path` with `clients` keep-alive connections, each one request after the other (a bounded
    load); the time of each request in ms, and the wall time. BenchError when `problem` finds any answer wrong."""
    host, port = base_url.split(":")
    samples: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def client() -> None:
        connection_ = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            sent_headers = headers(body)
            began = time.perf_counter()
            connection_.request("POST", path, body=body, headers=sent_headers)
            response = connection_.getresponse()
            answer = response.read()
            elapsed = (time.perf_counter() - began) * 1000
            wrong = problem(response.status, answer)
            with lock:
                samples.append(elapsed)
                if wrong:
                    failures.append(wrong)

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise BenchError(f"{len(failures)} POSTs to {path} failed, e.g. {failures[0]}")
    return samples, wall


def _events_problem(status: int, answer: bytes) -> str | None:
    if status != 200:
        return f"{status}: {answer[:200]!r}"
    if any(result["status"] == "rejected" for result in json.loads(answer)["results"]):
        return f"rejected: {answer[:300]!r}"
    return None


def _send_batches(
    *, base_url: str, token: str, bodies: list[bytes], clients: int
) -> tuple[list[float], float]:
    return _post_all(
        base_url=base_url,
        path="/api/v1/events",
        bodies=bodies,
        clients=clients,
        headers=lambda body: {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        problem=_events_problem,
    )


def measure_events(
    *, base_url: str, workspace: Workspace, owner: Any, options: InteractionsOptions, log: Log
) -> dict[str, Any]:
    issued = api_key_create(workspace=workspace, actor=owner, name=f"Bench events {uuid.uuid4().hex[:6]}")
    try:
        run = uuid.uuid4().hex[:8]
        warm = [
            json.dumps({"events": [_event(f"{run}w", n) for n in range(b * BATCH, (b + 1) * BATCH)]}).encode()
            for b in range(10)
        ]
        _send_batches(base_url=base_url, token=issued.token, bodies=warm, clients=options.clients)
        bodies = [
            json.dumps({"events": [_event(run, n) for n in range(b * BATCH, (b + 1) * BATCH)]}).encode()
            for b in range(options.batches)
        ]
        log(f"Sending {options.batches} batches of {BATCH} events with {options.clients} clients...")
        samples, wall = _send_batches(
            base_url=base_url, token=issued.token, bodies=bodies, clients=options.clients
        )
        batched: dict[str, Any] = {
            "events": options.batches * BATCH,
            "seconds": round(wall, 2),
            "events_per_second": round(options.batches * BATCH / wall),
            "batch_ms": _with_p99(samples),
        }
        log(f"  {batched['events_per_second']} events/s, batch p99 {batched['batch_ms']['p99_ms']} ms")
        naive_run = uuid.uuid4().hex[:8]
        singles = [
            json.dumps({"events": [_event(naive_run, n)]}).encode() for n in range(options.naive_events)
        ]
        log(f"Naive: {options.naive_events} events, one request each...")
        naive_samples, naive_wall = _send_batches(
            base_url=base_url, token=issued.token, bodies=singles, clients=options.clients
        )
        naive = {
            "events": options.naive_events,
            "seconds": round(naive_wall, 2),
            "events_per_second": round(options.naive_events / naive_wall),
            "request_ms": _with_p99(naive_samples),
        }
        log(f"  {naive['events_per_second']} events/s one by one")
        return {
            "batch_size": BATCH,
            "clients": options.clients,
            "batched": batched,
            "one_request_per_event": naive,
        }
    finally:
        api_key_revoke(workspace=workspace, actor=owner, api_key_id=issued.api_key.pk)


# --- 3. The WhatsApp webhook -----------------------------------------------------------------------------------


def _webhook_body(*, phone_number_id: str, run: str, number: int) -> bytes:
    user = f"ID.{run}.{number % 500}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "bench",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "6281100000999",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": f"WA {number % 500}"},
                                    "user_id": user,
                                    "wa_id": f"62814{number % 500:07d}",
                                }
                            ],
                            "messages": [
                                {
                                    "from": f"62814{number % 500:07d}",
                                    "from_user_id": user,
                                    "id": f"wamid.{run}.{number}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": f"Halo {number}"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


@dataclass(frozen=True)
class _Hook:
    channel: Any
    run: str
    bodies: list[bytes]
    secret: str

    def signed(self, body: bytes) -> dict[str, str]:
        signature = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def _hook(*, workspace: Workspace, owner: Any, count: int) -> _Hook:
    secret = secrets.token_urlsafe(24)
    # A number id of this run's own: Meta's ids are unique across workspaces, and an earlier run's may remain.
    phone_number_id = f"1000{secrets.randbelow(10**11):011d}"
    channel = whatsapp_channel_add(
        workspace=workspace,
        actor=owner,
        phone_number_id=phone_number_id,
        app_secret=secret,
        verify_token="bench",
    )
    run = uuid.uuid4().hex[:8]
    bodies = [_webhook_body(phone_number_id=phone_number_id, run=run, number=n) for n in range(count)]
    return _Hook(channel=channel, run=run, bodies=bodies, secret=secret)


def _hook_post(*, base_url: str, hook: _Hook, clients: int) -> tuple[list[float], float]:
    return _post_all(
        base_url=base_url,
        path=f"/hooks/whatsapp/{hook.channel.url_token}",
        bodies=hook.bodies,
        clients=clients,
        headers=hook.signed,
        problem=lambda status, _answer: None if status == 200 else str(status),
    )


def _hook_drained(*, workspace: Workspace, hook: _Hook) -> dict[str, Any]:
    """Wait until every stored event is processed; check that each message was stored once."""
    events = WebhookEvent.objects.for_workspace(workspace).filter(channel=hook.channel)
    deadline = time.monotonic() + 600
    while events.filter(processed_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise BenchError("the workers did not process the webhooks within 10 minutes")
        time.sleep(0.2)
    stored = (
        Message.objects.for_workspace(workspace)
        .filter(provider_message_id__startswith=f"wamid.{hook.run}.")
        .count()
    )
    if stored != len(hook.bodies):
        raise BenchError(f"{stored} messages stored for {len(hook.bodies)} webhooks")
    span = events.aggregate(first=Min("processed_at"), last=Max("processed_at"))
    return {
        "events_with_errors": events.exclude(error="").count(),
        "first_processed_at": span["first"],
        "last_processed_at": span["last"],
    }


def measure_webhook(
    *, base_url: str, workspace: Workspace, owner: Any, options: InteractionsOptions, log: Log
) -> dict[str, Any]:
    """Live: the webhooks posted while the job workers run; the time of each answer, and how far the jobs lag."""
    hook = _hook(workspace=workspace, owner=owner, count=options.webhooks)
    log(f"Posting {options.webhooks} webhooks with {options.clients} clients while the workers run...")
    began = time.perf_counter()
    samples, sent_seconds = _hook_post(base_url=base_url, hook=hook, clients=options.clients)
    drained = _hook_drained(workspace=workspace, hook=hook)
    processed_seconds = time.perf_counter() - began
    result: dict[str, Any] = {
        "webhooks": options.webhooks,
        "clients": options.clients,
        "job_workers": options.job_workers,
        "answer_ms": _with_p99(samples),
        "posted_per_second": round(options.webhooks / sent_seconds),
        "processed_per_second": round(options.webhooks / processed_seconds),
        "seconds_to_post": round(sent_seconds, 2),
        "seconds_until_all_processed": round(processed_seconds, 2),
        "events_with_errors": drained["events_with_errors"],
    }
    log(
        f"  answer p99 {result['answer_ms']['p99_ms']} ms; {result['posted_per_second']} posted/s, "
        f"all processed {round(processed_seconds - sent_seconds, 2)} s after the last POST"
    )
    return result


def measure_webhook_backlog(
    *, base_url: str, workspace: Workspace, owner: Any, options: InteractionsOptions, log: Log
) -> dict[str, Any]:
    """What the jobs can take: the webhooks stored while no worker runs, then drained by the workers; messages per
    second from the first event processed to the last (the workers' start-up is not the jobs' time)."""
    hook = _hook(workspace=workspace, owner=owner, count=options.webhooks)
    log(f"Storing {options.webhooks} webhooks with no worker running...")
    samples, _seconds = _hook_post(base_url=base_url, hook=hook, clients=options.clients)
    with celery_workers(count=options.job_workers, log=log):
        drained = _hook_drained(workspace=workspace, hook=hook)
    seconds = (drained["last_processed_at"] - drained["first_processed_at"]).total_seconds()
    result = {
        "webhooks": options.webhooks,
        "job_workers": options.job_workers,
        "answer_ms_without_workers": _with_p99(samples),
        "seconds_to_drain": round(seconds, 2),
        "messages_per_second": round(options.webhooks / max(seconds, 0.001)),
        "events_with_errors": drained["events_with_errors"],
    }
    log(f"  drained in {result['seconds_to_drain']} s: {result['messages_per_second']} messages/s")
    return result
