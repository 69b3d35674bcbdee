"""Generating millions of customers without their secondary indexes, as pg_restore does.

Keeping ten B-tree and three trigram indexes up to date row by row makes the COPY of ten million customers
several times slower than writing the rows and building each index once at the end (a sort, or a GIN build,
with a large maintenance_work_mem). Only non-unique indexes are dropped: the primary key and the unique
indexes stay, so the data cannot break a constraint while they are away.

The definitions are saved in a table of the bench database before anything is dropped, in the same
transaction, so a run that is interrupted mid-way leaves them behind; the next run rebuilds them first
(`indexes_restore`), whatever it then does with the data.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from bench.common import Log

SAVED_TABLE = "bench_saved_index"
# Below this many rows the indexes are kept: dropping and rebuilding them costs more than it saves.
MIN_ROWS = 200_000
BUILD_MEMORY = "1GB"


def _ensure_saved_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {SAVED_TABLE} (name text PRIMARY KEY, tablename text NOT NULL, "
            "definition text NOT NULL)"
        )


def indexes_drop(*, tables: list[str], log: Log) -> int:
    """Save and drop the non-unique indexes of `tables`; how many were dropped."""
    _ensure_saved_table()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary "
            "AND t.relnamespace = 'public'::regnamespace ORDER BY c.relname",
            [tables],
        )
        found = cursor.fetchall()
        for name, table, definition in found:
            cursor.execute(
                f"INSERT INTO {SAVED_TABLE} (name, tablename, definition) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                [name, table, definition],
            )
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    log(f"  dropped {len(found)} secondary indexes for the load: {', '.join(row[0] for row in found)}")
    return len(found)


def indexes_restore(*, log: Log) -> int:
    """Build every index a previous `indexes_drop` saved (and that is still missing); how many were built."""
    _ensure_saved_table()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, definition FROM {SAVED_TABLE} ORDER BY name")
        saved = cursor.fetchall()
    built = 0
    for name, definition in saved:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = %s", [BUILD_MEMORY])
            cursor.execute("SELECT to_regclass(%s) IS NULL", [f'public."{name}"'])
            if cursor.fetchone()[0]:
                cursor.execute(definition)
                built += 1
                log(f"  built {name} in {time.perf_counter() - started:.1f} s")
            cursor.execute(f"DELETE FROM {SAVED_TABLE} WHERE name = %s", [name])
    return built
