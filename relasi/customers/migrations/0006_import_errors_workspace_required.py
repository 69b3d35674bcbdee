# The failed rows got their workspace in 0005; requiring it is a migration of its own, so that on PostgreSQL
# the deferred foreign-key checks of that update run before the table is altered.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_import_actor_and_scoped_errors"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerimporterror",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenancy.workspace"
            ),
        ),
        migrations.AddConstraint(
            model_name="customerimporterror",
            constraint=models.UniqueConstraint(
                fields=("workspace", "customer_import", "row_number"), name="import_error_row_unique"
            ),
        ),
    ]
