"""Create the PostgreSQL database that a URL names, unless it exists already (used by `make bench`).

    python scripts/ensure_database.py postgres://postgres@127.0.0.1:5432/relasi_bench

Connects to the server's `postgres` database with the same user, host and options to create it.
"""

from __future__ import annotations

import sys
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql


def ensure_database(url: str) -> bool:
    """Return True when the database was created, False when it was there already."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgres", "postgresql") or not name:
        raise ValueError(f"expected postgres://USER@HOST:PORT/NAME, got {url!r}")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    name = unquote(urlsplit(arguments[0]).path.lstrip("/"))
    try:
        created = ensure_database(arguments[0])
    except (ValueError, psycopg.Error) as error:
        print(f"ERROR: cannot ensure the database {name!r}: {error}", file=sys.stderr)
        return 1
    print(f"Database {name}: {'created' if created else 'already there'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
