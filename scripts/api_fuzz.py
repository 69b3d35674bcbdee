"""Schemathesis against Relasi's live API: `make test-api` (part of `make test`), `make test-api-long` (nightly).

    python scripts/api_fuzz.py [--max-examples N] [--seed S] [--max-time SECONDS]

On a fresh PostgreSQL database (PG_URL with `_api_fuzz` appended, dropped afterwards) with the demo workspace and
an API key, it starts Relasi as in production (gunicorn, DEBUG off, problem details for every error) and runs
every Schemathesis check on every operation of /api/v1/openapi.json: no server error, every status, content type
and body as described, invalid requests refused, valid ones accepted (tests/fuzz/hooks.py says which refusals
depend on the data). The exit status is Schemathesis': 0 when nothing was found.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/relasi"


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def relasi(arguments: list[str], environment: dict[str, str]) -> str:
    return subprocess.run(
        [str(BIN / "relasi"), *arguments],
        env=environment,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@contextmanager
def server(environment: dict[str, str], port: int, log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "relasi"), "serve", "--prod", f"127.0.0.1:{port}"],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"Relasi did not start; its log:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def config_text(seeded: dict[str, Any]) -> str:
    """Schemathesis' configuration: values the demo data accepts, used for some of the generated requests.

    Without them almost every valid-looking customer would be refused (a random user id is no member, a random
    status no option) and the import endpoints would only ever see ids that do not exist: the checks would
    rarely reach the code that saves.
    """
    dictionaries = {
        "members": seeded["members"],
        "statuses": seeded["statuses"],
        "imports": seeded["imports"],
        "phones": ["081234567890", "+6281298765432", "0361 234567"],
        "emails": ["budi@example.com", "siti.rahma@example.co.id"],
    }
    bindings = {
        "body.owner_id": "members",
        "body.assignee_id": "members",
        "body.status": "statuses",
        "body.phone": "phones",
        "body.email": "emails",
        "path.import_id": "imports",
    }
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for key, name in bindings.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=25, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-time", type=int, default=0, help="seconds; 0 = until the examples are spent")
    options = parser.parse_args()
    database_url = os.environ.get("PG_URL", DEFAULT_PG_URL) + "_api_fuzz"
    with tempfile.TemporaryDirectory(prefix="relasi-api-fuzz-") as folder, fresh_database(database_url):
        port = free_port()
        environment = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "RELASI_"))},
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "RELASI_SITE_URL": f"http://127.0.0.1:{port}",
            "RELASI_VAR_DIR": folder,
            # No Redis: imports run inside the request, so their code is exercised too. No rate limit: every
            # request is a test, not a 429.
            "REDIS_URL": "",
            "API_RATE_LIMITS_ENABLED": "false",
            "WEB_CONCURRENCY": "2",
            "PYTHONPATH": str(ROOT),
        }
        relasi(["migrate", "--no-input", "-v", "0"], environment)
        relasi(["demo"], {**environment, "DEBUG": "true"})
        # The last line: `shell` may print its own notes first.
        seeded = json.loads(
            relasi(["shell", "-c", "from tests.fuzz.seed import main; main()"], environment).splitlines()[-1]
        )
        config = Path(folder) / "schemathesis.toml"
        config.write_text(config_text(seeded))
        with server(environment, port, Path(folder) / "server.log") as base:
            command = [
                str(BIN / "st"),
                "--no-color",
                "--config-file",
                str(config),
                "run",
                f"{base}/api/v1/openapi.json",
                "--checks",
                "all",
                "--seed",
                str(options.seed),
                "--max-examples",
                str(options.max_examples),
                "--generation-database",
                "none",
                "--header",
                f"Authorization: Bearer {seeded['token']}",
                "--output-sanitize",
                "true",
            ]
            if options.max_time:
                command += ["--max-time", str(options.max_time)]
            fuzz_environment = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
                "PYTHONPATH": str(ROOT),
            }
            status = subprocess.run(command, env=fuzz_environment, cwd=ROOT).returncode
            if status:
                print(f"\nThe server's log is in {folder}/server.log until this exits:", file=sys.stderr)
                print((Path(folder) / "server.log").read_text()[-20000:], file=sys.stderr)
            return status


if __name__ == "__main__":
    sys.exit(main())
