"""A property type for money: whole rupiah ("currency"), shown `Rp 1.500.000` and stored as a JSON integer.

Only the choices change: the column already holds any kind name of up to 12 characters.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0011_name_search_statistics"),
    ]

    operations = [
        migrations.AlterField(
            model_name="propertydefinition",
            name="kind",
            field=models.CharField(
                choices=[
                    ("text", "Text"),
                    ("long_text", "Long text"),
                    ("number", "Number"),
                    ("currency", "Amount in rupiah"),
                    ("date", "Date"),
                    ("datetime", "Date and time"),
                    ("boolean", "Yes/no"),
                    ("select", "Single select"),
                    ("multiselect", "Multi select"),
                    ("phone", "Phone"),
                    ("email", "Email"),
                    ("url", "URL"),
                ],
                default="text",
                max_length=12,
                verbose_name="type",
            ),
        ),
    ]
