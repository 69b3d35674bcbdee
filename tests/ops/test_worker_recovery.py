"""Crash recovery for real: a Celery worker on Redis is killed (SIGKILL) in the middle of an import on PostgreSQL,
another worker and the one beat take over, and the import ends with exact counts within the recovery time.

Slow (about half a minute) and needs PostgreSQL and Redis up: run by `make test-ops`, which CI runs too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = "postgres://postgres@127.0.0.1:5432"
ROWS = 30_000
STALLED_SECONDS = 6
RECOVERY_INTERVAL_SECONDS = 2

pytestmark = pytest.mark.ops

SETUP = f"""
import django; django.setup()
from django.core.files.base import ContentFile
from relasi.accounts.models import User
from relasi.customers import imports
from relasi.tenancy.services import workspace_create
owner = User.objects.create_user("ops@relasi.test", None, full_name="Ops Owner")
workspace = workspace_create(name="Ops", slug="ops", owner=owner, actor=owner)
lines = ["Nama,No HP"] + [f"Pelanggan {{n}},0812{{n:08d}}" for n in range({ROWS})]
upload = imports.customer_import_upload_and_start(
    workspace=workspace, actor=owner, file=ContentFile("\\n".join(lines).encode(), name="ops.csv"),
    original_name="ops.csv", mapping=None, duplicate_mode="skip",
)
print(upload.pk)
"""


@pytest.fixture
def database() -> Iterator[str]:
    name = f"relasi_ops_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _environment(database: str, folder: Path) -> dict[str, str]:
    left_out = (
        "DATABASE_URL",
        "REDIS_URL",
        "DEBUG",
        "SECRET_KEY",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "RELASI_TESTING",
    )
    return {
        **{key: value for key, value in os.environ.items() if key not in left_out},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "CELERY_QUEUE": f"ops-{uuid.uuid4().hex[:8]}",
        "RELASI_VAR_DIR": str(folder),
        "MEDIA_ROOT": str(folder / "media"),
        "CUSTOMER_IMPORT_BATCH_SIZE": "200",
        "CUSTOMER_IMPORT_STALLED_SECONDS": str(STALLED_SECONDS),
        "JOBS_RECOVERY_INTERVAL_SECONDS": str(RECOVERY_INTERVAL_SECONDS),
    }


def _start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *arguments],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return _start(["worker", "--pool", "solo", "-Q", env["CELERY_QUEUE"], "--loglevel", "INFO"], env, log)


def _import_state(database: str, import_id: int) -> tuple[str, int, int]:
    with psycopg.connect(database) as connection:
        row = connection.execute(
            "SELECT status, processed_rows, created_count FROM customers_customerimport WHERE id = %s",
            [import_id],
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2])


def _wait_for(condition: object, *, seconds: float, what: str) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def test_a_killed_workers_import_is_continued_by_the_recovery_with_exact_counts(
    database: str, tmp_path: Path
) -> None:
    env = _environment(database, tmp_path)
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrated.returncode == 0, migrated.stderr
    # given a worker running an import of 30,000 rows, 200 a batch
    first = _worker(env, tmp_path / "worker-1.log")
    processes = [first]
    try:
        created = subprocess.run(
            [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert created.returncode == 0, created.stderr
        import_id = int(created.stdout.strip().splitlines()[-1])
        _wait_for(
            lambda: _import_state(database, import_id)[1] >= 2_000, seconds=60, what="the first batches"
        )
        # when the worker is killed without a chance to clean up
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        status, done, _created = _import_state(database, import_id)
        assert status == "running"
        assert 2_000 <= done < ROWS
        # and another worker and the one beat run
        processes.append(_worker(env, tmp_path / "worker-2.log"))
        processes.append(
            _start(
                ["beat", "--loglevel", "INFO", "--max-interval", "1", "-s", str(tmp_path / "beat-schedule")],
                env,
                tmp_path / "beat.log",
            )
        )
        # then the import is continued and ends within the recovery time, every row written once
        finished_at = _wait_for(
            lambda: _import_state(database, import_id)[0] == "completed", seconds=90, what="the recovery"
        )
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    assert _import_state(database, import_id) == ("completed", ROWS, ROWS)
    with psycopg.connect(database) as connection:
        customers, rows = connection.execute(
            "SELECT count(*), count(DISTINCT source_row) FROM customers_customer WHERE source_import_id = %s",
            [import_id],
        ).fetchone()  # type: ignore[misc]
        resumed = connection.execute(
            "SELECT actor_label FROM core_auditlog WHERE action = 'customer_import.resumed'"
        ).fetchall()
    assert (customers, rows) == (ROWS, ROWS)
    assert resumed == [("system:recovery",)]
    # the threshold, one recovery interval, then the rest of the import; with room for a slow machine
    print(f"killed after {done:,} rows; completed {finished_at - killed_at:.1f} s later")
    assert finished_at - killed_at < STALLED_SECONDS + RECOVERY_INTERVAL_SECONDS + 30
