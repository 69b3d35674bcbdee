"""The wheel as an operator installs it.

Built from this checkout (setup.py copies the front-end libraries from node_modules into it), installed with
the locked packages into a fresh virtual environment, then run from an empty folder with a PATH that does not
hold that environment's bin: `relasi collectstatic`, `relasi migrate` (SQLite in that folder) and
`relasi serve --prod` with DEBUG=false. Then asked, over HTTP, for its health, a page, the page in
Indonesian, and the static files the page links to. Runs apart from the suite: `make test-ops`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from relasi.web.vendor_assets import VENDOR_ASSETS

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
SECRET_KEY = "ops-test-" + "k" * 50
STARTUP_SECONDS = 60

pytestmark = pytest.mark.ops


def run(argv: list[str | Path], **options: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in argv], capture_output=True, text=True, timeout=300, **options
    )
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class Installed:
    venv: Path
    site: Path  # the empty folder Relasi runs from
    env: dict[str, str]

    def relasi(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return run([self.venv / "bin" / "relasi", *arguments], cwd=self.site, env=self.env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    uv_env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    uv_env.pop("VIRTUAL_ENV", None)
    run([UV, "build", "--wheel", "--out-dir", work / "dist"], cwd=ROOT, env=uv_env)
    [wheel] = (work / "dist").glob("relasi-*.whl")
    requirements = work / "requirements.txt"
    run(
        [UV, "export", "--frozen", "--no-dev", "--no-emit-project", "--output-file", requirements],
        cwd=ROOT,
        env=uv_env,
    )
    venv = work / "venv"
    run([UV, "venv", venv, "--python", sys.executable], cwd=work, env=uv_env)
    run(
        [UV, "pip", "install", "--python", venv / "bin" / "python", "-r", requirements, wheel],
        cwd=work,
        env=uv_env,
    )
    site = work / "site"
    site.mkdir()
    # What an operator's shell would have: no checkout, no Relasi settings, and the venv's bin not on PATH.
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(work)),
        "LANG": "C.UTF-8",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TIME_ZONE": "Asia/Makassar",
        "WEB_CONCURRENCY": "2",
    }
    return Installed(venv=venv, site=site, env=env)


def test_relasi_runs_from_the_wheel_not_from_the_checkout(installed: Installed) -> None:
    found = run(
        [
            installed.venv / "bin" / "python",
            "-c",
            "import config, relasi; print(relasi.__file__, config.__file__)",
        ],
        cwd=installed.site,
        env=installed.env,
    ).stdout.split()
    site_packages = next((installed.venv / "lib").glob("python3*/site-packages"))
    assert all(Path(path).is_relative_to(site_packages) for path in found), found


def test_the_wheel_carries_the_data_files_its_rules_read(installed: Installed) -> None:
    # the list of identifiers that never match a customer is data beside the code, read at the first resolution
    answer = run(
        [
            installed.venv / "bin" / "python",
            "-c",
            "from relasi.customers.junk import junk_text, JUNK_FILE; print(JUNK_FILE.exists(), junk_text('anonymous'))",
        ],
        cwd=installed.site,
        env=installed.env,
    ).stdout.split()
    assert answer == ["True", "True"]


@pytest.fixture(scope="module")
def prepared(installed: Installed) -> Installed:
    """README › Running in production, step 2, from the empty folder."""
    installed.relasi("collectstatic", "--no-input")
    installed.relasi("migrate", "--no-input")
    return installed


def test_collectstatic_gathers_every_static_file_into_the_working_folder(prepared: Installed) -> None:
    static = prepared.site / "var" / "static"
    assert (static / "relasi" / "relasi.css").exists()
    assert (static / "admin" / "css" / "base.css").exists()
    for prefix, folder in VENDOR_ASSETS.items():
        source = ROOT / "node_modules" / folder
        files = [path.relative_to(source) for path in source.rglob("*") if path.is_file()]
        missing = [str(path) for path in files if not (static / prefix / path).exists()]
        assert files and not missing, f"{prefix}: {missing[:5]}"
    site_packages = next((prepared.venv / "lib").glob("python3*/site-packages"))
    assert not (site_packages / "var").exists()


def test_migrate_creates_the_database_in_the_working_folder(prepared: Installed) -> None:
    assert (prepared.site / "var" / "relasi.sqlite3").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Server:
    url: str
    log: Path

    def get(self, path: str, *, proxied: bool = True, **headers: str) -> Response:
        # Proxied: the proxy in front of gunicorn says the request came over HTTPS (DEBUG=false redirects plain
        # HTTP, health probes excepted).
        if proxied:
            headers = {"X-Forwarded-Proto": "https", **headers}
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return Response(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers.items()), error.read())


@pytest.fixture(scope="module")
def server(prepared: Installed) -> Iterator[Server]:
    installed = prepared
    port = _free_port()
    log = installed.site / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(installed.venv / "bin" / "relasi"), "serve", "--prod", f"127.0.0.1:{port}"],
            cwd=installed.site,
            env=installed.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    served = Server(url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"relasi serve --prod stopped:\n{log.read_text()}"
            try:
                if served.get("/healthz", proxied=False).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no answer within {STARTUP_SECONDS} s:\n{log.read_text()}"
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_served_wheel_is_healthy(server: Server) -> None:
    # As a load balancer probes gunicorn: plain HTTP, no proxy header.
    answer = server.get("/healthz", proxied=False)

    assert answer.status == 200, server.log.read_text()


def test_gunicorn_logs_in_the_operators_time_zone(server: Server) -> None:
    # TIME_ZONE=Asia/Makassar (UTC+8), whatever the machine's zone: gunicorn's master writes its times in it.
    starting = [line for line in server.log.read_text().splitlines() if "Starting gunicorn" in line]
    assert starting and "+0800]" in starting[0], server.log.read_text()


def test_the_sign_in_page_and_its_static_files_are_served(server: Server) -> None:
    page = server.get("/accounts/login/")

    assert page.status == 200, server.log.read_text()
    assert "Sign in to your workspace" in page.text
    assert 'name="csrfmiddlewaretoken"' in page.text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    bootstrap = [
        link
        for link in links
        if re.fullmatch(r"/static/vendor/bootstrap/css/bootstrap\.min\.\w{12}\.css", link)
    ]
    ours = [link for link in links if re.fullmatch(r"/static/relasi/relasi\.\w{12}\.css", link)]
    assert bootstrap and ours, links
    for link in links:
        assert server.get(link).status == 200, link
    css = server.get(bootstrap[0])
    assert css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers["Cache-Control"]
    assert b"Bootstrap" in css.body[:200]
    assert server.get(ours[0]).body.strip()


def test_a_page_renders_in_indonesian(server: Server) -> None:
    page = server.get("/accounts/login/", **{"Accept-Language": "id"})

    assert page.status == 200, server.log.read_text()
    assert '<html lang="id">' in page.text
    assert "Masuk ke ruang kerja Anda" in page.text
    assert "Lupa kata sandi?" in page.text
