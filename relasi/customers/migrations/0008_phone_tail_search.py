"""An index for finding a phone number from its last digits on PostgreSQL ("0243" finds +6281200000243).

A tail is a suffix, which no B-tree can look up; reversed, it is a prefix: reverse(phone) LIKE '3420%'.
`text_pattern_ops` makes the LIKE prefix an index range whatever the database's collation. The workspace
comes first, as in the other customer indexes, so one workspace's range is read, not every tenant's.
The expression must stay exactly the one `selectors._search_condition` writes, REVERSE("phone"), or the
planner will not use it. Not partial, like `customer_phone`: the Deleted view searches with it too.

Built CONCURRENTLY (outside a transaction) so that upgrading an install with millions of customers does
not block writes to the table while the index builds. SQLite has neither the need nor the operator class:
the selector matches the tail with a plain LIKE there.
"""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

INDEX = "customer_phone_tail"


def create_index(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # A concurrent build that failed (or was interrupted) leaves an invalid index behind, which
    # IF NOT EXISTS would keep for ever: drop it so the next migrate builds it again.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            [INDEX],
        )
        row = cursor.fetchone()
    if row is not None and row[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
        'ON customers_customer ("workspace_id", (REVERSE("phone")) text_pattern_ops)'
    )
    # An expression index has no statistics until the table is next analysed; until then the planner
    # guesses that a tail matches 0.5% of the rows and walks the whole recent-order index instead
    # (seconds at a million customers). ANALYZE samples a fixed number of rows: about a second at ten million.
    schema_editor.execute("ANALYZE customers_customer")


def drop_index(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("customers", "0007_export_progressed_at")]

    operations = [migrations.RunPython(create_index, drop_index)]
