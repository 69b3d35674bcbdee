"""Background jobs without a broker: the default setup (no REDIS_URL) runs them on threads of the web process.
The servers for real (runserver reloaded mid-import, gunicorn's workers) are in test_background_servers.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
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
from tests.background_servers import REPO, dev_environ, until
from tests.conftest import make_user

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
            env={**dev_environ(REPO / "var", **extra), "DJANGO_SETTINGS_MODULE": "config.settings"},
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
        env={**dev_environ(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"},
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
    assert until(lambda: RUNNING.get("same") == 1)
    # when the same job is queued twice more and another job once
    held_task.delay("same")
    held_task.delay("same")
    _gate("other").set()
    held_task.delay("other")
    # then the other job runs on the second thread while the first is held
    assert until(lambda: "other" in [name for _thread, name, _found in SEEN])
    # and the copies wait for the first
    time.sleep(0.3)
    assert [name for _thread, name, _found in SEEN].count("same") == 1
    assert until(lambda: in_threads.unfinished() == ["tests.test_background_jobs.held_task('same')"] * 3)
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
    assert until(lambda: RUNNING.get("busy") == 1)
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
        assert until(lambda: label in submitted, 20), submitted
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


def test_inbound_events_have_their_own_queue_and_a_plain_worker_listens_on_both() -> None:
    from config.celery import app

    def queue_of(task: str) -> str:
        return str(app.amqp.router.route({}, task)["queue"].name)

    assert queue_of("relasi.interactions.tasks.webhook_event_process_task") == "relasi-ingestion"
    assert queue_of("relasi.customers.tasks.customer_import_run_task") == "relasi"
    assert sorted(app.amqp.queues) == ["relasi", "relasi-ingestion"]
