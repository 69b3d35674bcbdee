from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from relasi.tenancy.models import Workspace


@receiver(post_save, sender=Workspace)
def create_builtin_properties(
    sender: type[Workspace], instance: Workspace, created: bool, **kwargs: Any
) -> None:
    if created:
        from relasi.customers.property_services import properties_ensure_builtin

        properties_ensure_builtin(workspace=instance)
