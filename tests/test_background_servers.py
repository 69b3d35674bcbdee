"""Background jobs without Redis in the servers themselves: `make run`'s development server reloaded in the middle of
an import, writes beside a long import on SQLite, and gunicorn's workers sharing one schedule."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relasi.customers.models import ImportStatus
from tests.background_servers import (
    REPO,
    DevServer,
    customers_csv,
    dev_environ,
    dev_server_start,
    dev_template_folder,
    free_port,
    until,
)


@pytest.fixture(scope="session")
def dev_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dev_template_folder(tmp_path_factory)


@pytest.fixture
def dev_server(dev_template: Path, tmp_path: Path) -> Iterator[DevServer]:
    server = dev_server_start(dev_template, tmp_path)
    yield server
    server.stop()


ROWS = 30_000


def _import_finished(server: DevServer, import_id: int, timeout: float) -> dict[str, Any]:
    """The import once it is completed or failed, asked through the API (a server restarting answers later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = server.import_state(import_id)
        except OSError:
            state = {"status": "unreachable"}
        if state["status"] in (ImportStatus.COMPLETED, ImportStatus.FAILED):
            return state
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish in {timeout} s:\n{server.log_text()}")


def test_a_reload_in_the_middle_of_an_import_gives_one_runner_per_serving_process_and_loses_no_row(
    dev_template: Path, tmp_path: Path
) -> None:
    # given `make run`'s server with a quick recovery (3 s of silence, looked for every second), importing
    server = dev_server_start(
        dev_template,
        tmp_path,
        CUSTOMER_IMPORT_STALLED_SECONDS="3",
        JOBS_RECOVERY_INTERVAL_SECONDS="1",
        JOBS_SHUTDOWN_GRACE_SECONDS="0",
        CUSTOMER_IMPORT_BATCH_SIZE="500",
    )
    try:
        import_id = server.import_start(customers_csv(tmp_path / "customers.csv", ROWS))
        assert until(lambda: server.import_state(import_id)["processed_rows"] >= 1000, 60), server.log_text()
        # when a file of the code changes, so that the autoreloader restarts the server in the middle of it
        later = time.time() + 2
        os.utime(server.script, (later, later))
        # then the import ends complete, each row written once
        state = _import_finished(server, import_id, 180)
        log = server.log_text()
        assert "changed, reloading" in log
        assert (state["status"], state["processed_rows"], state["created_count"], state["failed_count"]) == (
            "completed",
            ROWS,
            ROWS,
            0,
        )
        written = server.query(
            "SELECT COUNT(*), COUNT(DISTINCT source_row) FROM customers_customer "
            f"WHERE source_import_id = {import_id}"
        )
        assert written == [(ROWS, ROWS)]
        # and it was the recovery of the new process that continued it, without beat
        assert f"Continued stalled jobs: imports [{import_id}], exports []" in log
        # and each of the two serving processes ran one runner and one schedule; the autoreloader's parent none
        runners = re.findall(r"Background jobs run in process (\d+)", log)
        schedules = re.findall(r"Scheduled jobs run in process (\d+)", log)
        assert len(runners) == 2 and len(set(runners)) == 2, log
        assert schedules == runners
        assert str(server.process.pid) not in runners
    finally:
        server.stop()


def test_gunicorn_workers_without_redis_run_their_own_jobs_and_one_schedule_between_them(
    dev_template: Path, tmp_path: Path
) -> None:
    # given `relasi serve --prod`'s gunicorn with three workers on one state folder, without Redis
    var_dir = tmp_path / "var"
    shutil.copytree(dev_template, var_dir)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "3", "--no-control-socket"),
        ],
        cwd=var_dir,
        env={**dev_environ(var_dir), "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = DevServer(var_dir=var_dir, url=f"http://127.0.0.1:{port}", process=process, log=log, script=log)
    try:
        server.wait_until_up()

        # when requests come to every worker at once
        def runners() -> set[str]:
            return set(re.findall(r"Background jobs run in process (\d+)", server.log_text()))

        def knock() -> None:
            for _ in range(20):
                server.get("/healthz")

        deadline = time.monotonic() + 60
        while len(runners()) < 3 and time.monotonic() < deadline:
            callers = [threading.Thread(target=knock) for _ in range(6)]
            for caller in callers:
                caller.start()
            for caller in callers:
                caller.join()
        # then each worker runs jobs, one of them the schedule, and the two others say which one does
        text = server.log_text()
        assert len(runners()) == 3, text
        [scheduler] = re.findall(r"Scheduled jobs run in process (\d+)", text)
        others = re.findall(r"The schedule runs in process (\d+); process (\d+) runs none", text)
        assert sorted(others) == sorted((scheduler, pid) for pid in runners() - {scheduler}), text
        assert (var_dir / "jobs-schedule.lock").read_text() == scheduler
    finally:
        server.stop()


def test_writes_beside_a_long_import_wait_their_turn_instead_of_failing_as_locked(
    dev_server: DevServer, tmp_path: Path
) -> None:
    # given `make run`'s server (SQLite) importing 30,000 rows on its job threads
    import_id = dev_server.import_start(customers_csv(tmp_path / "customers.csv", ROWS))
    # when customers are added through the API, one after another, until the import ends
    answers: list[int] = []
    during_the_import = 0
    slowest = 0.0
    while (state := dev_server.import_state(import_id))["status"] not in ("completed", "failed"):
        started = time.monotonic()
        status, _answer = dev_server.api(
            "POST",
            "/api/v1/customers",
            json.dumps({"full_name": f"Beside {len(answers) + 1}"}).encode(),
            "application/json",
        )
        slowest = max(slowest, time.monotonic() - started)
        answers.append(status)
        during_the_import += state["status"] == "running"
    # then every write was made, none refused as locked, and the import is complete
    print(f"{len(answers)} writes beside the import, the slowest in {slowest:.2f} s")
    assert during_the_import >= 5
    assert set(answers) == {201}
    assert (state["status"], state["created_count"], state["failed_count"]) == ("completed", ROWS, 0)
    assert dev_server.query("SELECT COUNT(*) FROM customers_customer") == [(ROWS + len(answers),)]
    assert "database is locked" not in dev_server.log_text()
