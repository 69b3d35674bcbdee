"""`make run`'s development server and gunicorn started for real by the background-jobs tests (no Redis, SQLite
in a state folder of the test's own), and what those tests share."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# The development server as `make run` starts it: manage.py's own code, from a file of the test's own, so that
# touching that file makes Django's autoreloader restart the server as an edit of the code would.
SERVE_PY = (
    "import os, sys\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
    "from django.core.management import execute_from_command_line\n"
    "execute_from_command_line(sys.argv)\n"
)


def dev_environ(var_dir: Path, **extra: str) -> dict[str, str]:
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
        env=dev_environ(var_dir),
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


def free_port() -> int:
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
    port = free_port()
    log = folder / "server.log"
    process = subprocess.Popen(
        [sys.executable, str(script), "runserver", f"127.0.0.1:{port}"],
        cwd=var_dir,
        env={**dev_environ(var_dir, **extra_env), "PYTHONPATH": str(REPO)},
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


def customers_csv(path: Path, rows: int) -> Path:
    lines = ["Full name,Phone,Email"]
    lines += [f"Customer {n},+62812{n:08d},customer{n}@example.id" for n in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    """Whether the condition held within the timeout (asked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
