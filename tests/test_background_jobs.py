"""Background jobs without a broker: the default setup (no REDIS_URL) runs them on threads of the web process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import shared_task
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, transaction
from django.utils import timezone

from relasi.accounts.models import User
from relasi.core import background
from relasi.core.background import BackgroundRunner
from relasi.core.models import AuditLog
from relasi.customers import imports
from relasi.customers.imports import runner as runner_module
from relasi.customers.models import Customer, CustomerImport, ImportStatus
from relasi.customers.recovery import customer_jobs_recover
from relasi.tenancy.models import Workspace
from tests.conftest import make_user

REPO = Path(__file__).resolve().parent.parent
# The development server as `make run` starts it: manage.py's own code, from a file of the test's own, so that
# touching that file makes Django's autoreloader restart the server as an edit of the code would.
SERVE_PY = (
    "import os, sys\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
    "from django.core.management import execute_from_command_line\n"
    "execute_from_command_line(sys.argv)\n"
)


def _dev_environ(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of `make run`: no Redis, SQLite under RELASI_VAR_DIR, not the test suite's settings."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DATABASE_URL", "RELASI_TESTING", "DJANGO_SETTINGS_MODULE", "RUN_MAIN")
    }
    environ.update(RELASI_VAR_DIR=str(var_dir), DATABASE_URL="", DEBUG="true", PYTHONUNBUFFERED="1", **extra)
    return environ


def _manage(var_dir: Path, *arguments: str) -> str:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *arguments],
        cwd=var_dir,
        env=_dev_environ(var_dir),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout


def dev_template_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development state folder, migrated and with the demo accounts (no demo customers), copied per server."""
    # Made once per test process, whichever test module asks first.
    var_dir = tmp_path_factory.getbasetemp() / "dev-template"
    if not (var_dir / "ready").exists():
        var_dir.mkdir(exist_ok=True)
        _manage(var_dir, "migrate", "--no-input")
        _manage(var_dir, "demo", "--customers", "0")
        token = _manage(var_dir, "api_key", "create", "--workspace", "demo", "--name", "Background jobs test")
        (var_dir / "api_token").write_text(token.strip())
        (var_dir / "ready").touch()
    return var_dir


@pytest.fixture(scope="session")
def dev_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dev_template_folder(tmp_path_factory)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DevServer:
    var_dir: Path
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    script: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, timeout: float = 10) -> int:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return int(response.status)

    def api(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, Any]:
        """A call of the JSON API with the demo workspace's key: (status, parsed body)."""
        headers = {"Authorization": f"Bearer {(self.var_dir / 'api_token').read_text()}"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return int(response.status), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return int(error.code), json.loads(error.read() or b"null")

    def import_start(self, upload: Path) -> int:
        """Upload a CSV through the API (suggested mapping) and start importing it: the import's id."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{upload.name}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + upload.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, answer = self.api(
            "POST", "/api/v1/customer-imports", body, f"multipart/form-data; boundary={boundary}"
        )
        assert status == 202, answer
        return int(answer["id"])

    def import_state(self, import_id: int) -> dict[str, Any]:
        status, answer = self.api("GET", f"/api/v1/customer-imports/{import_id}")
        assert status == 200, answer
        return dict(answer)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the server's database directly (SQLite allows a reader beside the server's writers)."""
        with closing(sqlite3.connect(self.var_dir / "relasi.sqlite3", timeout=20)) as database:
            return database.execute(sql).fetchall()

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the development server stopped:\n{self.log_text()}")
            try:
                if self.get("/healthz", timeout=2) == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the development server did not answer in {timeout} s:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            # The server and its autoreloaded child form the process group this test started.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def dev_server_start(template: Path, folder: Path, **extra_env: str) -> DevServer:
    """`make run`'s server (runserver with its autoreloader) on a copy of the template's state."""
    var_dir = folder / "var"
    shutil.copytree(template, var_dir)
    script = folder / "serve.py"
    script.write_text(SERVE_PY)
    port = _free_port()
    log = folder / "server.log"
    process = subprocess.Popen(
        [sys.executable, str(script), "runserver", f"127.0.0.1:{port}"],
        cwd=var_dir,
        env={**_dev_environ(var_dir, **extra_env), "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = DevServer(
        var_dir=var_dir, url=f"http://127.0.0.1:{port}", process=process, log=log, script=script
    )
    try:
        server.wait_until_up()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def dev_server(dev_template: Path, tmp_path: Path) -> Iterator[DevServer]:
    server = dev_server_start(dev_template, tmp_path)
    yield server
    server.stop()


def customers_csv(path: Path, rows: int) -> Path:
    lines = ["Full name,Phone,Email"]
    lines += [f"Customer {n},+62812{n:08d},customer{n}@example.id" for n in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- The runner in this process -------------------------------------------------------------------------------

FILE = b"Nama,No HP\nAni,081234567801\nBudi,081234567802\nCici,081234567803\n"
# What the jobs below saw, and the gates that hold them, by name.
SEEN: list[tuple[str, str, bool]] = []
GATES: dict[str, threading.Event] = {}
RUNNING: dict[str, int] = {}
PEAK: dict[str, int] = {}
COUNT = threading.Lock()


@shared_task
def user_seen_task(email: str) -> None:
    SEEN.append((threading.current_thread().name, email, User.objects.filter(email=email).exists()))


@shared_task
def held_task(name: str) -> None:
    with COUNT:
        RUNNING[name] = RUNNING.get(name, 0) + 1
        PEAK[name] = max(PEAK.get(name, 0), RUNNING[name])
    SEEN.append((threading.current_thread().name, name, True))
    try:
        assert GATES[name].wait(timeout=20), f"{name} was never released"
    finally:
        with COUNT:
            RUNNING[name] -= 1


@pytest.fixture(autouse=True)
def _fresh_records() -> Iterator[None]:
    SEEN.clear()
    RUNNING.clear()
    PEAK.clear()
    yield
    for gate in GATES.values():
        gate.set()
    GATES.clear()


def _gate(name: str) -> threading.Event:
    return GATES.setdefault(name, threading.Event())


def _until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def in_threads(settings, monkeypatch) -> Iterator[BackgroundRunner]:
    """Jobs on threads, as without REDIS_URL; the test process runs no schedule unless a test starts one."""
    settings.JOBS_RUNNER = "threads"
    monkeypatch.setattr(background, "background_schedule_start", lambda: None)
    runner = BackgroundRunner(threads=2)
    monkeypatch.setattr(background, "_runner", runner)
    yield runner
    for gate in GATES.values():
        gate.set()
    assert runner.drain(timeout=30), runner.unfinished()
    runner.shutdown(grace=0)


def _quiet_for(model: type[CustomerImport], pk: int, seconds: int) -> None:
    model.unscoped.filter(pk=pk).update(progressed_at=timezone.now() - timedelta(seconds=seconds))


def _upload(workspace: Workspace, actor: User, content: bytes = FILE) -> CustomerImport:
    return imports.customer_import_upload(
        workspace=workspace,
        actor=actor,
        file=SimpleUploadedFile("customers.csv", content),
        original_name="c.csv",
    )


def _start(workspace: Workspace, actor: User, customer_import: CustomerImport) -> None:
    imports.customer_import_start(
        workspace=workspace,
        actor=actor,
        import_id=customer_import.pk,
        mapping=imports.customer_import_suggest_mapping(workspace=workspace, headers=customer_import.headers),
        duplicate_mode="skip",
    )


def test_the_suite_runs_jobs_eagerly_and_make_run_on_threads(settings) -> None:
    # given the suite's settings (RELASI_TESTING, no REDIS_URL), then jobs run in the call that queues them
    assert (settings.JOBS_RUNNER, settings.CELERY_TASK_ALWAYS_EAGER) == ("eager", True)
    # and `make run`'s environment (no RELASI_TESTING, no REDIS_URL) runs them on threads, Redis's on Celery
    for extra, expected in (({}, "threads\n"), ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "celery\n")):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from django.conf import settings; "
                "print(settings.JOBS_RUNNER)",
            ],
            cwd=REPO,
            env={**_dev_environ(REPO / "var", **extra), "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout == expected, result.stderr


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_a_celery_worker_or_beat_without_redis_refuses_to_start(program: str, tmp_path: Path) -> None:
    # given `make run`'s environment (no REDIS_URL), when a worker or a beat is started
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", program, "--loglevel", "INFO"]
        + (["--schedule", str(tmp_path / "schedule")] if program == "beat" else ["--pool", "solo"]),
        cwd=REPO,
        env={**_dev_environ(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then it stops at once, saying why, instead of waiting for jobs that never come
    assert result.returncode == 1
    assert (
        "relasi worker and relasi beat need REDIS_URL. Without it the web process runs the jobs and the schedule "
        "itself (JOBS_RUNNER=threads)."
    ) in result.stdout + result.stderr


def test_a_job_queued_in_a_transaction_runs_on_a_job_thread_after_the_commit(
    in_threads, transactional_db
) -> None:
    # given a transaction that adds a user and queues a job that looks for it
    with transaction.atomic():
        make_user("later@acme.test", "Later")
        user_seen_task.delay("later@acme.test")
        # when the transaction is still open, then the job is not even queued
        time.sleep(0.2)
        assert (in_threads.unfinished(), SEEN) == ([], [])
    # when it commits, then the job runs on a job thread and finds the user
    assert in_threads.drain(timeout=10)
    [(thread, email, found)] = SEEN
    assert (thread.startswith("relasi-jobs-"), email, found) == (True, "later@acme.test", True)


def test_a_job_queued_in_a_rolled_back_transaction_never_runs(in_threads, transactional_db) -> None:
    # given a transaction that queues a job, when it rolls back
    with pytest.raises(RuntimeError), transaction.atomic():
        make_user("never@acme.test", "Never")
        user_seen_task.delay("never@acme.test")
        raise RuntimeError("changed my mind")
    # then nothing ran
    assert in_threads.drain(timeout=10)
    assert SEEN == []


def test_start_import_answers_before_the_job_runs_and_the_job_finishes_it(
    in_threads, transactional_db, acme, alice, client_for, monkeypatch
) -> None:
    # given an uploaded file, and the job held at its start
    customer_import = _upload(acme, alice)
    gate = _gate("import")
    run = runner_module.customer_import_run

    def held_run(**arguments: Any) -> CustomerImport:
        assert gate.wait(timeout=20)
        return run(**arguments)

    monkeypatch.setattr("relasi.customers.imports.customer_import_run", held_run)
    # when the owner starts the import from the mapping page
    response = client_for(alice).post(
        f"/app/acme/customers/imports/{customer_import.pk}/",
        {"column_0": "full_name", "column_1": "phone", "duplicate_mode": "skip"},
    )
    # then the page answers while the job waits, and the import is queued
    assert response.status_code == 302
    assert response["Location"] == f"/app/acme/customers/imports/{customer_import.pk}/progress/"
    customer_import.refresh_from_db()
    assert customer_import.status == ImportStatus.QUEUED
    assert in_threads.unfinished() == [
        f"relasi.customers.tasks.customer_import_run_task({acme.pk}, {customer_import.pk})"
    ]
    # and once the job runs, the import is complete
    gate.set()
    assert in_threads.drain(timeout=20)
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.created_count) == (ImportStatus.COMPLETED, 3)


def test_a_job_that_raises_is_logged_and_its_import_marked_failed(
    in_threads, transactional_db, acme, alice, monkeypatch, caplog
) -> None:
    # given an import whose rows cannot be read
    def broken(job: object, on_progress: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner_module, "_run_rows", broken)
    customer_import = _upload(acme, alice)
    # when it is started and its job runs
    _start(acme, alice, customer_import)
    assert in_threads.drain(timeout=20)
    # then the import is marked failed, as under a worker
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.failure_reason) == (
        ImportStatus.FAILED,
        "RuntimeError: disk on fire",
    )
    # and the failure is logged with the job's name and the traceback
    [record] = [record for record in caplog.records if record.name == "relasi.core.background"]
    assert record.levelname == "ERROR"
    assert record.getMessage() == (
        f"Background job relasi.customers.tasks.customer_import_run_task({acme.pk}, {customer_import.pk}) failed"
    )
    assert record.exc_info is not None and str(record.exc_info[1]) == "disk on fire"
    # and the runner goes on with the next job
    user_seen_task.delay("after@acme.test")
    assert in_threads.drain(timeout=10)
    assert [email for _thread, email, _found in SEEN] == ["after@acme.test"]


def test_the_same_job_never_runs_twice_at_once_while_others_run_beside_it(in_threads) -> None:
    # given a job with a given argument running (held)
    _gate("same")
    held_task.delay("same")
    assert _until(lambda: RUNNING.get("same") == 1)
    # when the same job is queued twice more and another job once
    held_task.delay("same")
    held_task.delay("same")
    _gate("other").set()
    held_task.delay("other")
    # then the other job runs on the second thread while the first is held
    assert _until(lambda: "other" in [name for _thread, name, _found in SEEN])
    # and the copies wait for the first
    time.sleep(0.3)
    assert [name for _thread, name, _found in SEEN].count("same") == 1
    assert _until(lambda: in_threads.unfinished() == ["tests.test_background_jobs.held_task('same')"] * 3)
    # when the first is released, then all three run, one after the other
    _gate("same").set()
    assert in_threads.drain(timeout=10)
    assert [name for _thread, name, _found in SEEN].count("same") == 3
    assert PEAK == {"same": 1, "other": 1}


def test_the_job_threads_close_their_database_connections(in_threads, transactional_db, monkeypatch) -> None:
    # given a spy on the closing of connections
    closed_by: list[str] = []
    close_all = connections.close_all

    def spy() -> None:
        closed_by.append(threading.current_thread().name)
        close_all()

    monkeypatch.setattr(connections, "close_all", spy)
    # when a job that reads the database runs
    user_seen_task.delay("nobody@acme.test")
    assert in_threads.drain(timeout=10)
    # then its thread closed its connections when it ended
    [(thread, _email, found)] = SEEN
    assert (closed_by, found) == ([thread], False)


def test_a_process_that_stops_before_its_import_ran_leaves_it_to_the_recovery(
    settings, monkeypatch, transactional_db, acme, alice
) -> None:
    # given a process whose only job thread is busy, and an import started (committed) behind it
    settings.JOBS_RUNNER = "threads"
    stopping = BackgroundRunner(threads=1)
    monkeypatch.setattr(background, "_runner", stopping)
    _gate("busy")
    held_task.delay("busy")
    assert _until(lambda: RUNNING.get("busy") == 1)
    customer_import = _upload(acme, alice)
    _start(acme, alice, customer_import)
    # when the process stops and its grace time is over
    left = stopping.shutdown(grace=0.2)
    _gate("busy").set()
    # then the import was left unfinished, still queued in the database, and is not started by the old threads
    assert left == [
        "tests.test_background_jobs.held_task('busy')",
        f"relasi.customers.tasks.customer_import_run_task({acme.pk}, {customer_import.pk})",
    ]
    time.sleep(0.3)
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.processed_rows) == (ImportStatus.QUEUED, 0)
    # when the next process's recovery finds it quiet for longer than the threshold
    successor = BackgroundRunner(threads=1)
    monkeypatch.setattr(background, "_runner", successor)
    _quiet_for(CustomerImport, customer_import.pk, settings.CUSTOMER_IMPORT_STALLED_SECONDS + 1)
    assert customer_jobs_recover().imports == [customer_import.pk]
    # then the import is completed by the new process's threads, each row once
    assert successor.drain(timeout=20)
    successor.shutdown(grace=0)
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.created_count) == (ImportStatus.COMPLETED, 3)
    assert Customer.objects.for_workspace(acme).count() == 3


@pytest.fixture
def schedule_state(settings, monkeypatch, tmp_path: Path) -> Iterator[Path]:
    """No schedule in this process yet, and a state folder of the test's own for the schedule's lock."""
    settings.JOBS_RUNNER = "threads"
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(background, "_schedule", None)
    monkeypatch.setattr(background, "_schedule_asked", None)
    monkeypatch.setattr(background, "_schedule_lock", None)
    yield tmp_path
    schedule, lock = background._schedule, background._schedule_lock
    if schedule is not None:
        schedule.stop()
    if lock is not None:
        lock[1].close()


def test_the_first_request_starts_one_schedule_that_continues_a_stalled_import_without_beat(
    settings, monkeypatch, schedule_state, transactional_db, acme, alice, client_for
) -> None:
    # given the default setup with the recovery scheduled every 0.2 s, and an import whose job is gone
    settings.CELERY_BEAT_SCHEDULE = {
        "recover-stalled-jobs": {"task": "relasi.customers.tasks.customer_jobs_recover_task", "schedule": 0.2}
    }
    runner = BackgroundRunner(threads=1)
    monkeypatch.setattr(background, "_runner", runner)
    submitted: list[str] = []
    submit = runner.submit

    def spy(job: background.Job) -> None:
        submitted.append(job.label)
        submit(job)

    monkeypatch.setattr(runner, "submit", spy)
    customer_import = _upload(acme, alice)
    imports.customer_import_start(
        workspace=acme,
        actor=alice,
        import_id=customer_import.pk,
        mapping={"0": "full_name", "1": "phone"},
        duplicate_mode="skip",
        enqueue=False,
    )
    _quiet_for(CustomerImport, customer_import.pk, settings.CUSTOMER_IMPORT_STALLED_SECONDS + 1)
    # when the process serves its first requests
    client = client_for(alice)
    assert client.get("/healthz").status_code == 200
    schedule = background._schedule
    assert client.get("/healthz").status_code == 200
    # then one schedule runs in it, its lock file names this process
    assert schedule is not None and background._schedule is schedule
    assert (schedule_state / "jobs-schedule.lock").read_text() == str(os.getpid())
    # and its recovery queues the import again (the test reads the database only once the jobs are over: the
    # suite's in-memory SQLite answers "table is locked" to a reader beside a writer, where a file waits)
    label = f"relasi.customers.tasks.customer_import_run_task({acme.pk}, {customer_import.pk})"
    try:
        assert _until(lambda: label in submitted, 20), submitted
    finally:
        schedule.stop()
        assert runner.drain(timeout=20)
        runner.shutdown(grace=0)
    # and the import is complete, continued by the recovery
    assert submitted[0] == "relasi.customers.tasks.customer_jobs_recover_task()"
    assert submitted.count(label) == 1
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.created_count) == (ImportStatus.COMPLETED, 3)
    assert Customer.objects.for_workspace(acme).count() == 3
    assert AuditLog.objects.get(action="customer_import.resumed").actor_label == "system:recovery"


HOLD_LOCK_PY = (
    "import fcntl, os, sys\n"
    "handle = open(sys.argv[1], 'a+')\n"
    "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "handle.truncate(0); handle.write(str(os.getpid())); handle.flush()\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_second_serving_process_of_the_same_folder_runs_no_schedule_until_the_first_ends(
    settings, monkeypatch, schedule_state, caplog
) -> None:
    # given another process of the same state folder running the schedule (a gunicorn worker beside this one)
    settings.CELERY_BEAT_SCHEDULE = {}
    monkeypatch.setattr(background, "_runner", BackgroundRunner(threads=1))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK_PY, str(schedule_state / "jobs-schedule.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    asked: list[int] = []
    take = background._schedule_lock_take

    def counted() -> str | None:
        asked.append(1)
        return take()

    monkeypatch.setattr(background, "_schedule_lock_take", counted)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        # when this process serves requests
        background._serve_jobs()
        background._serve_jobs()
        # then it runs no schedule, says which process does, and asks once in SCHEDULE_LOCK_RETRY_SECONDS
        assert (background._schedule, len(asked)) == (None, 1)
        assert [record.getMessage() for record in caplog.records if record.name == "relasi.core.background"][
            -1
        ] == f"The schedule runs in process {holder.pid}; process {os.getpid()} runs none."
    finally:
        # when that process ends
        holder.communicate(timeout=10)
    # then, the next time this process asks, it takes the schedule over
    monkeypatch.setattr(background, "SCHEDULE_LOCK_RETRY_SECONDS", 0.0)
    background._serve_jobs()
    assert background._schedule is not None and background._schedule.pid == os.getpid()
    assert (len(asked), (schedule_state / "jobs-schedule.lock").read_text()) == (2, str(os.getpid()))
    # and asks no more
    background._serve_jobs()
    assert len(asked) == 2
    background._runner.shutdown(grace=0)  # type: ignore[union-attr]


def test_no_schedule_and_no_runner_with_a_broker_or_eagerly(settings, monkeypatch, schedule_state) -> None:
    # given a process with Redis's workers or the suite's eager jobs, when it serves a request
    monkeypatch.setattr(background, "_runner", None)
    for runner in ("celery", "eager"):
        settings.JOBS_RUNNER = runner
        background._serve_jobs()
        # then it starts neither threads nor a schedule, and leaves the lock to others
        assert (background._runner, background._schedule, background._schedule_lock) == (None, None, None)
    assert not (schedule_state / "jobs-schedule.lock").exists()


def test_one_runner_per_process_and_a_new_one_after_a_fork(settings, monkeypatch) -> None:
    # given no runner yet in this process
    settings.JOBS_THREADS = 1
    monkeypatch.setattr(background, "_runner", None)
    # when it is asked for twice, then it is one runner
    first = background.background_runner()
    assert background.background_runner() is first
    # when the process is a forked child (another pid), then the child gets its own: threads do not survive a fork
    monkeypatch.setattr(background.os, "getpid", lambda: first.pid + 1)
    child = background.background_runner()
    assert child is not first and child.pid == first.pid + 1
    first.shutdown(grace=0)
    child.shutdown(grace=0)


# --- `make run`'s server for real -----------------------------------------------------------------------------

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
        assert _until(lambda: server.import_state(import_id)["processed_rows"] >= 1000, 60), server.log_text()
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
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "3", "--no-control-socket"),
        ],
        cwd=var_dir,
        env={**_dev_environ(var_dir), "PYTHONPATH": str(REPO)},
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
