"""The database refuses to change a ledger entry, whoever asks (a bug, a shell, a raw UPDATE). Deleting stays
possible: an entry goes with its workspace."""

from __future__ import annotations

from typing import Any

from django.db import migrations

POSTGRES_UP = """
CREATE FUNCTION billing_ledgerentry_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are never changed: write a correcting entry';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_ledgerentry_no_update BEFORE UPDATE ON billing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION billing_ledgerentry_refuse_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS billing_ledgerentry_no_update ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledgerentry_refuse_update();
"""
SQLITE_UP = """
CREATE TRIGGER billing_ledgerentry_no_update BEFORE UPDATE ON billing_ledgerentry
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never changed: write a correcting entry');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS billing_ledgerentry_no_update;"


def _run(sql: dict[str, str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        statement = sql.get(schema_editor.connection.vendor)
        if statement:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
