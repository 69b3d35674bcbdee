"""Planner statistics on UPPER(full_name), so a short search is planned from the data, not a rule of thumb.

The name search is `UPPER(full_name) ~ 'TERM'` (the trigram index `customer_name_trgm` of migration 0002). That
index is partial (live customers only), and PostgreSQL ignores the statistics of partial indexes, so it had none
for the expression: it guessed that a four-character term matches 0.8 % of the rows (a fixed 5 x 0.2^4). For a
rare short term, typically the last four digits of a phone ("0243", issue 9 item 9), it then expected to find a
page of 50 matches early in the `customer_recent` index and walked it through the whole workspace: seconds at a
million customers, where the index plan (trigram + phone-tail bitmaps, then a sort of the few matches) takes
under a millisecond. Expression statistics (PostgreSQL 14+) give the planner the real frequency.

ANALYZE samples a fixed number of rows (about a second at ten million). SQLite has no planner statistics of
this kind and nothing to do.
"""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

STATISTICS = "customer_name_upper_stats"


def create_statistics(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # The expression must stay the one the search writes and the trigram index holds: UPPER("full_name"::text).
    schema_editor.execute(
        f'CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (UPPER("full_name"::text)) FROM customers_customer'
    )
    schema_editor.execute("ANALYZE customers_customer")


def drop_statistics(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_bulk_jobs")]

    operations = [migrations.RunPython(create_statistics, drop_statistics)]
