"""Screenshots of the customers list for docs/customers.md: a phone (390×844) and a laptop (1366×800), in English
and Bahasa Indonesia, saved as docs/screenshots/customers-list-{390,1366}-{en,id}.png.

The pictures come from a throwaway installation, never from the developer's own data: a fresh SQLite database in a
temporary folder, the demo data with 40 customers, and `manage.py runserver` on a free local port. Chromium
(RELASI_CHROMIUM, /usr/bin/chromium by default, as in the browser tests) signs in as the demo owner and takes what
the screen shows on opening All customers. Run it with `make screenshots` (or `.venv/bin/python scripts/screenshots.py`).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("RELASI_CHROMIUM", "/usr/bin/chromium")
# The same switches as the browser tests (tests/browser/conftest.py): headless in a container, nothing fetched.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SIZES = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 800}}
LANGUAGES = ("en", "id")
DEMO_OWNER = ("owner@relasi.test", "Relasi#2026")  # relasi/web/management/commands/demo.py
DEMO_CUSTOMERS = 40
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the development server stopped on start (exit code {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise SystemExit(f"the development server did not answer at {url} within {STARTUP_SECONDS} s")


def take(base_url: str, out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for language in LANGUAGES:
                for size, viewport in SIZES.items():
                    context = browser.new_context(
                        base_url=base_url, viewport=viewport, locale="en-US", reduced_motion="reduce"
                    )
                    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
                    page = context.new_page()
                    page.goto("/accounts/login/?next=/app/demo/customers/")
                    page.locator('input[name="username"]').fill(DEMO_OWNER[0])
                    page.locator('input[name="password"]').fill(DEMO_OWNER[1])
                    with page.expect_navigation():
                        page.locator('form button[type="submit"]').last.click()
                    page.wait_for_selector("[data-testid=customer-table] tbody tr")
                    page.wait_for_load_state("networkidle")
                    path = out_dir / f"customers-list-{size}-{language}.png"
                    page.screenshot(path=str(path))
                    saved.append(path)
                    context.close()
        finally:
            browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go")
    options = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium is not installed at {CHROMIUM}: run scripts/ensure-test-system.sh")
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="relasi-screenshots-") as scratch:
        # The default setup (`make run`): no broker, no test mode, whatever the calling shell has.
        env = {key: value for key, value in os.environ.items() if key not in ("RELASI_TESTING", "REDIS_URL")}
        env.update(
            RELASI_VAR_DIR=scratch, DATABASE_URL=f"sqlite:///{scratch}/screenshots.sqlite3", DEBUG="true"
        )
        manage("migrate", "--no-input", env=env)
        manage("demo", "--customers", str(DEMO_CUSTOMERS), env=env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base_url}/accounts/login/", server)
            for path in take(base_url, options.out):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
