"""One beat: a second `relasi beat` with the same RELASI_VAR_DIR refuses to start while the first lives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELASI = Path(sys.executable).parent / "relasi"

pytestmark = pytest.mark.ops


def test_a_second_beat_refuses_to_start(tmp_path: Path) -> None:
    left_out = (
        "DATABASE_URL",
        "REDIS_URL",
        "DEBUG",
        "SECRET_KEY",
        "RELASI_TESTING",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    env = {
        **{key: value for key, value in os.environ.items() if key not in left_out},
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "RELASI_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    first = subprocess.Popen(
        [str(RELASI), "beat"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        pidfile = tmp_path / "var" / "celerybeat.pid"
        deadline = time.monotonic() + 30
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pidfile.read_text().strip() == str(first.pid)
        second = subprocess.run(
            [str(RELASI), "beat"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode != 0
        assert f"Pidfile ({pidfile}) already exists." in second.stdout + second.stderr
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(timeout=30)
