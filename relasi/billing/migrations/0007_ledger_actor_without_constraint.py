"""The ledger's actor without a foreign-key constraint: deleting a user would set it to NULL with an UPDATE, which
the ledger's trigger refuses. SQLite rebuilds the table to change a column, which drops its triggers: the trigger
that refuses UPDATE is made again (tests/billing/test_ledger.py checks it is there)."""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS billing_ledgerentry_no_update BEFORE UPDATE ON billing_ledgerentry
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never changed: write a correcting entry');
END;
"""


def trigger_again(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_subscriptions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(trigger_again, migrations.RunPython.noop),
    ]
