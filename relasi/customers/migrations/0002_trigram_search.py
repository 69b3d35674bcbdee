"""Trigram indexes for searching customers by part of a name, email or phone on PostgreSQL.

The expressions match the SQL Django writes for `icontains` (UPPER(col::text) LIKE UPPER(...)) and
`contains` (col::text LIKE ...), so the planner can use them. SQLite has no pg_trgm: skipped there.
"""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

INDEXES = [
    ("customer_name_trgm", 'UPPER("full_name"::text) gin_trgm_ops'),
    ("customer_email_trgm", '("email"::text) gin_trgm_ops'),
    ("customer_phone_trgm", '("phone"::text) gin_trgm_ops'),
]


def create_indexes(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer USING gin ({expression}) WHERE deleted_at IS NULL"
        )


def drop_indexes(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
