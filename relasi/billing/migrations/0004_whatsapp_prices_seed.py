"""The WhatsApp price table starts with one row per category, in force from 1 January 2026: Meta's rate card for
Indonesia rounded to the rupiah. Staff keep it up to date in the back-office (a new row with its date)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import migrations

PRICES = {"marketing": 586, "utility": 357, "authentication": 357, "service": 0}
SINCE = date(2026, 1, 1)


def seed(apps: Any, schema_editor: Any) -> None:
    price = apps.get_model("billing", "WhatsAppPrice")
    for category, amount in PRICES.items():
        price.objects.get_or_create(category=category, effective_from=SINCE, defaults={"price": amount})


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("billing", "WhatsAppPrice").objects.filter(effective_from=SINCE).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_metering")]

    operations = [migrations.RunPython(seed, unseed)]
